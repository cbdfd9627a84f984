from django.urls import path

from palpate.scheduling import views

app_name = "scheduling"

# Mounted under /schedule/ by palpate.web.urls.
urlpatterns = [
    path("", views.calendar_home, name="home"),
    path("day/<str:day>/", views.calendar_view, {"view": "day"}, name="day"),
    path("week/<str:day>/", views.calendar_view, {"view": "week"}, name="week"),
    path("book/", views.book, name="book"),
    path("find/", views.find_episode, name="find"),
    path("appointments/<id:pk>/", views.appointment_detail, name="appointment"),
    path("appointments/<id:pk>/check-in/", views.check_in, name="check_in"),
    path("appointments/<id:pk>/start/", views.start, name="start"),
    path("appointments/<id:pk>/move/", views.move, name="move"),
    path("appointments/<id:pk>/cancel/", views.cancel, name="cancel"),
    path("appointments/<id:pk>/no-show/", views.no_show, name="no_show"),
    path("appointments/<id:pk>/void/", views.void, name="void"),
    path("settings/", views.schedule_settings, name="settings"),
    path("feed/", views.feed_settings, name="feed"),
    path("feed/<str:token>.ics", views.feed_ics, name="feed_ics"),
]
