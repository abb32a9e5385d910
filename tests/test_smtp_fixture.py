import smtplib
from email.message import EmailMessage


def test_smtp_server_receives_mail(smtp_server):
    message = EmailMessage()
    message["From"] = "a@example.test"
    message["To"] = "b@example.test"
    message["Subject"] = "Proef"
    message.set_content("Hallo")

    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.send_message(message)

    received = smtp_server.wait_for(1)
    assert received[0].message["Subject"] == "Proef"
    assert received[0].envelope_to == ["b@example.test"]
