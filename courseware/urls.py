from django.urls import path

app_name = "courseware"

urlpatterns: list = []
