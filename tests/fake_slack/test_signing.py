"""Signatures made by the fake verify with slack_sdk's verifier, the one Bolt uses."""

from slack_sdk.signature import Clock, SignatureVerifier

from fake_slack import sign

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000
BODY = "token=x&team_id=T0001&command=%2Fwaste&text=25+waiting"


def verifier(now: int = NOW) -> SignatureVerifier:
    return SignatureVerifier(SECRET, clock=_FixedClock(now))


class _FixedClock(Clock):
    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)


def test_sign_returns_the_two_slack_headers() -> None:
    headers = sign(BODY, secret=SECRET, timestamp=NOW)
    assert set(headers) == {"X-Slack-Request-Timestamp", "X-Slack-Signature"}
    assert headers["X-Slack-Request-Timestamp"] == str(NOW)
    assert headers["X-Slack-Signature"].startswith("v0=")


def test_signature_verifies_with_slack_sdk() -> None:
    headers = sign(BODY, secret=SECRET, timestamp=NOW)
    assert verifier().is_valid_request(BODY, headers)


def test_bytes_and_str_bodies_sign_alike() -> None:
    assert sign(BODY.encode(), secret=SECRET, timestamp=NOW) == sign(
        BODY, secret=SECRET, timestamp=NOW
    )


def test_changed_body_fails_verification() -> None:
    headers = sign(BODY, secret=SECRET, timestamp=NOW)
    assert not verifier().is_valid_request(BODY.replace("25", "250"), headers)


def test_other_secret_fails_verification() -> None:
    headers = sign(BODY, secret="another-secret", timestamp=NOW)
    assert not verifier().is_valid_request(BODY, headers)


def test_timestamp_over_five_minutes_old_fails_verification() -> None:
    headers = sign(BODY, secret=SECRET, timestamp=NOW - 301)
    assert not verifier().is_valid_request(BODY, headers)
    assert verifier().is_valid_request(BODY, sign(BODY, secret=SECRET, timestamp=NOW - 299))
