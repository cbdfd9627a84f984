from django.db import migrations


class Migration(migrations.Migration):
    """One name for the core's stored answer in every record: evaluations and visits call it
    ``screen_result``; plans of care now do too (it was ``engine_output``). Data is kept."""

    dependencies = [("plans", "0003_planofcare_signed_episode")]

    operations = [migrations.RenameField("planofcare", "engine_output", "screen_result")]
