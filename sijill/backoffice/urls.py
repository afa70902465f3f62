"""Back-office URLs, mounted at /backoffice/ (sijill/urls.py)."""

from django.urls import path

from sijill.backoffice import signin, views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", signin.sign_in, name="sign_in"),
    path("sign-in/code/", signin.sign_in_code, name="sign_in_code"),
    path("sign-in/authenticator/", signin.sign_in_enrol, name="sign_in_enrol"),
    path("sign-out/", signin.sign_out, name="sign_out"),
    path("account/authenticator/", signin.device_replace, name="device_replace"),
    # Agents
    path("persons/", views.person_search, name="person_search"),
    path("persons/enrol/", views.enrol, name="enrol"),
    path("persons/<str:idcs>/", views.person_detail, name="person_detail"),
    path("enrolments/held/", views.held_list, name="held_list"),
    path("enrolments/held/<str:reference>/", views.held_detail, name="held_detail"),
    path("households/", views.household_find, name="household_find"),
    path("households/register/", views.household_register, name="household_register"),
    path("households/<str:reference>/", views.household_detail, name="household_detail"),
    path("households/<str:reference>/receipt/", views.household_receipt,
         name="household_receipt"),
    path("duplicates/", views.cluster_list, name="cluster_list"),
    path("duplicates/<int:cluster_id>/", views.cluster_detail, name="cluster_detail"),
    path("discrepancies/", views.discrepancy_list, name="discrepancy_list"),
    path("discrepancies/<int:pk>/", views.discrepancy_detail, name="discrepancy_detail"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<str:reference>/", views.review_detail, name="review_detail"),
    path("reviews/<str:reference>/correct/", views.review_correct, name="review_correct"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/<str:reference>/", views.complaint_detail, name="complaint_detail"),
    # Analysts and operators
    path("formulas/", views.formula_list, name="formula_list"),
    path("formulas/<int:pk>/", views.formula_detail, name="formula_detail"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/<slug:code>/simulator/", views.program_simulator, name="program_simulator"),
    path("notices/time-limit/", views.notice_dashboard, name="notice_dashboard"),
]
