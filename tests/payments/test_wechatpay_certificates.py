"""WeChat Pay's older platform-certificate mode against the simulator, over real HTTP: the
certificates downloaded from /v3/certificates, decrypted under the APIv3 key and kept by
serial; answers and notifications verified by the certificate their Wechatpay-Serial names; a
new certificate fetched when the gateway starts signing with it; unknown serials refused."""

import logging

import pytest

from payments.gateway_settings import GatewayConfigError, wechatpay_from_env
from payments.models import LedgerEntry, Payment

from .conftest import ledger_sum
from .test_wechatpay import paid, post, start

pytestmark = pytest.mark.django_db

PUBLIC_KEY_MODE = ("WECHATPAY_PUBLIC_KEY", "WECHATPAY_PUBLIC_KEY_ID")


def certificate_env(sim, folder, *, keep_public_key=False):
    env = {**sim.env, "WECHATPAY_TIMEOUT": "1", "WECHATPAY_PLATFORM_CERT_DIR": str(folder)}
    if not keep_public_key:
        env = {name: value for name, value in env.items() if name not in PUBLIC_KEY_MODE}
    return env


@pytest.fixture
def certsim(settings, wechatpay_sim, tmp_path):
    """WeChat Pay in certificate mode: no public key, a folder for the certificates, and the
    simulator signing with its newest platform certificate."""
    wechatpay_sim.reset()
    wechatpay_sim.controls(sign_with="certificate")
    folder = tmp_path / "certs"
    folder.mkdir()
    settings.WECHATPAY = wechatpay_from_env(
        certificate_env(wechatpay_sim, folder), public_url=settings.PUBLIC_URL
    )
    wechatpay_sim.folder = folder
    return wechatpay_sim


def kept(folder):
    return sorted(path.stem for path in folder.glob("*.pem"))


def test_the_certificates_are_downloaded_decrypted_and_kept_by_serial(certsim, tab):
    assert kept(certsim.folder) == []
    payment = start(tab)  # its answer is verified with the downloaded certificate
    assert payment.status == "pending" and payment.code_url, payment.failure
    assert kept(certsim.folder) == certsim.certificate_serials()


def test_a_notification_signed_with_the_platform_certificate_pays(certsim, client, tab, commits):
    payment = start(tab)
    with commits():
        payment = paid(certsim, payment, client)
    assert payment.status == "succeeded" and ledger_sum(account="qr") == 50


def test_a_new_certificate_is_fetched_when_the_gateway_signs_with_it(certsim, client, tab):
    payment = start(tab)
    first = kept(certsim.folder)
    newest = certsim.rotate_certificate()
    assert newest not in first
    certsim.decide(payment.reference)
    headers, body = certsim.notification(payment.reference)
    assert headers["Wechatpay-Serial"] == newest
    assert post(client, headers, body).status_code == 204
    assert newest in kept(certsim.folder)
    assert Payment.objects.get().status == "succeeded"


def test_an_answer_signed_with_a_new_certificate_is_verified_after_fetching_it(certsim, tab):
    start(tab, amount="10.00")
    newest = certsim.rotate_certificate()
    payment = start(tab, amount="10.00", key="phone-2")  # the SDK fetches the new one itself
    assert payment.status == "pending" and payment.code_url, payment.failure
    assert newest in certsim.certificate_serials()


def test_an_unknown_serial_is_refused_and_the_gateway_asked_at_most_once_a_minute(
    certsim, client, tab, caplog
):
    payment = start(tab)
    certsim.decide(payment.reference)
    headers, body = certsim.notification(payment.reference)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="payments"):
        for serial in ("5157F09EFDC096DE15EBE81A47057A7232F1B8E1", "1A2B3C", "NOT-HEX", ""):
            answer = post(client, {**headers, "Wechatpay-Serial": serial}, body)
            assert answer.status_code == 401 and answer.json()["code"] == "FAIL"
    assert "unknown_serial" in caplog.text
    downloads = [r for r in caplog.records if "platform certificates" in r.getMessage()]
    assert len(downloads) == 1  # one download for the first unknown serial, none after
    assert Payment.objects.get().status == "pending" and not LedgerEntry.objects.exists()
    assert post(client, headers, body).status_code == 204  # the real one still counts


def test_with_a_wrong_apiv3_key_no_certificate_decrypts_and_nothing_is_believed(
    certsim, settings, tab
):
    env = certificate_env(certsim, certsim.folder)
    env["WECHATPAY_APIV3_KEY"] = "x" * 32
    settings.WECHATPAY = wechatpay_from_env(env, public_url=settings.PUBLIC_URL)
    payment = start(tab)
    assert payment.status == "failed" and "certificates" in payment.failure
    assert kept(certsim.folder) == []


def test_both_modes_at_once_accept_either_signer(settings, wechatpay_sim, client, tmp_path, tab):
    """While a merchant moves to the public key, WeChat signs with either."""
    wechatpay_sim.reset()
    folder = tmp_path / "certs"
    folder.mkdir()
    env = certificate_env(wechatpay_sim, folder, keep_public_key=True)
    settings.WECHATPAY = wechatpay_from_env(env, public_url=settings.PUBLIC_URL)
    payment = start(tab)
    wechatpay_sim.decide(payment.reference)
    by_key = wechatpay_sim.notification(payment.reference)
    wechatpay_sim.controls(sign_with="certificate")
    by_certificate = wechatpay_sim.notification(payment.reference)
    assert by_key[0]["Wechatpay-Serial"] != by_certificate[0]["Wechatpay-Serial"]
    assert post(client, *by_certificate).status_code == 204
    assert post(client, *by_key).status_code == 204  # the same payment again: a replay
    assert LedgerEntry.objects.count() == 1


def test_the_configuration_names_what_is_missing_or_wrong(wechatpay_sim, tmp_path):
    env = {n: v for n, v in wechatpay_sim.env.items() if n not in PUBLIC_KEY_MODE}
    with pytest.raises(GatewayConfigError, match="WECHATPAY_PLATFORM_CERT_DIR"):
        wechatpay_from_env(env, public_url="http://x")
    with pytest.raises(GatewayConfigError, match="go together"):
        wechatpay_from_env({**env, "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0114"}, public_url="x")
    with pytest.raises(GatewayConfigError, match="folder this process can write"):
        wechatpay_from_env(
            {**env, "WECHATPAY_PLATFORM_CERT_DIR": str(tmp_path / "nope")}, public_url="x"
        )
    config = wechatpay_from_env(
        {**env, "WECHATPAY_PLATFORM_CERT_DIR": str(tmp_path)}, public_url="http://x"
    )
    assert config["public_key"] is None and config["cert_dir"] == str(tmp_path)
