from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "sijill.notifications"
    label = "notifications"
    verbose_name = "Notifications: the outbox of notices, codes and letters"

    def ready(self) -> None:
        from sijill.notifications import conf, receivers  # noqa: F401  (connects receivers)

        conf.check_limits()
