"""The Django project: settings, URL map, server entry point and shared templates."""
