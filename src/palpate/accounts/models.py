from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who signs in. Clinic access comes from memberships, never from this row."""

    def display_name(self) -> str:
        """How a person is named on every page, PDF and audit message: the full name, else the username."""
        return self.get_full_name() or self.get_username()
