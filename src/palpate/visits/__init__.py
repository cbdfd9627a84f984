"""Treatment visits: SOAP note, the technique x region x pressure x minutes record, signing and addenda."""
