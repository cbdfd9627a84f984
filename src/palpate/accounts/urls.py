from django.contrib.auth import views as auth_views
from django.urls import path

from palpate.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/recovery/", views.recovery_sign_in, name="recovery_sign_in"),
    path("recovery-codes/", views.renew_recovery_codes, name="renew_recovery_codes"),
    path("sessions/", views.session_list, name="sessions"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_sent.html"), name="password_reset_sent"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("", views.account, name="account"),
]
