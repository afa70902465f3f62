from django.urls import path

from sijill.portal import cases_views, views, wizard

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.signin_start, name="signin"),
    path("sign-in/code/", views.signin_code, name="signin_code"),
    path("sign-out/", views.signout, name="signout"),
    path("me/", views.dashboard, name="dashboard"),
    path("me/household/", views.household_detail, name="household"),
    path("me/index/", views.index_detail, name="index"),
    path("me/accesses/", views.accesses, name="accesses"),
    path("me/notices/", views.notices, name="notices"),
    path("me/register/", wizard.wizard_start, {"mode": "register"}, name="register"),
    path("me/update/", wizard.wizard_start, {"mode": "update"}, name="update"),
    path("me/declaration/<slug:step>/", wizard.wizard_step, name="wizard_step"),
    path("me/review/", cases_views.review, name="review"),
    path("me/complaints/", cases_views.complaints, name="complaints"),
    path("me/complaints/<str:reference>/", cases_views.complaint, name="complaint"),
]
