from django.urls import path

from lti import deep, registration, views

app_name = "lti"
urlpatterns = [
    path("jwks.json", views.jwks, name="jwks"),
    path("login/", views.login_initiation, name="login"),
    path("launch/", views.launch, name="launch"),
    path("deep-link/<str:key>/", deep.deep_link, name="deep_link"),
    path("register/", registration.register, name="register"),
    path("classes/<int:class_id>/roster/", views.roster, name="roster"),
]
