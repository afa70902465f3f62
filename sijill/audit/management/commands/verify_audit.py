from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sijill.audit.models import AuditEntry
from sijill.audit.verify import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero naming every bad entry."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(audit_verify())
        for p in problems:
            self.stderr.write(f"audit entry #{p.seq}: {p.kind}: {p.detail}")
        if problems:
            raise CommandError(f"audit chain broken: {len(problems)} problem(s)")
        self.stdout.write(f"audit chain intact: {AuditEntry.objects.count()} entries")
