from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who signs in. Clinic access comes from memberships, never from this row."""

    def display_name(self) -> str:
        return self.get_full_name() or self.username
