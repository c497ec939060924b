from __future__ import annotations

import pytest

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_signs_up_lands_home_and_signs_out(audited_page) -> None:
    page = audited_page.page
    audited_page.goto("/")
    audited_page.click_and_wait("text=Sign up")
    page.fill("#id_username", "carol")
    page.fill("#id_email", "carol@example.test")
    page.fill("#id_password1", "a-long-and-unusual-passphrase")
    page.fill("#id_password2", "a-long-and-unusual-passphrase")
    audited_page.click_and_wait("main button[type=submit]")

    assert page.url.rstrip("/") == audited_page.base_url
    assert "Welcome, carol" in page.inner_text("main")
    assert "Signed in as carol" in page.inner_text("main")
    assert User.objects.get(username="carol").role == User.Role.STUDENT

    audited_page.click_and_wait("text=Sign out")
    assert page.is_visible("text=Sign in")
    assert "Signed in as" not in page.inner_text("main")


def test_the_login_form_is_keyboard_operable_with_visible_errors(audited_page) -> None:
    page = audited_page.page
    audited_page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "keyboard focus is visible"
    audited_page.click_and_wait("text=Sign in")
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong-password-123")
    page.press("#id_password", "Enter")
    page.wait_for_load_state("load")
    audited_page.audit()
    assert "Error:" in page.inner_text("main")
