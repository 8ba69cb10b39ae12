"""Email delivery from the outbox: build the message, hand it to SMTP (or an .eml file), retry."""

from portal.mail.transports import FileTransport, MailTransport, SmtpTransport, transport_for
from portal.mail.worker import DeliveryReport, MailWorker, deliver_due

__all__ = [
    "DeliveryReport",
    "FileTransport",
    "MailTransport",
    "MailWorker",
    "SmtpTransport",
    "deliver_due",
    "transport_for",
]
