"""Plans of care: goals, frequency and duration, techniques by region, home programme, signing."""
