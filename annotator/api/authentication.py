"""DRF token authentication, its look-up written out in SQL.

Every API request authenticates, and coders call the claim and submit endpoints
every few seconds for hours: building and compiling DRF's
`Token.objects.select_related("user").get(key=key)` took about a third of those
requests' CPU. Same tokens (rest_framework.authtoken), same answers, same errors.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from annotator.db import fetch_row, from_row


def _user_columns() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's TokenAuthentication (header `Authorization: Token <key>`), one query."""

    def authenticate_credentials(self, key: str):
        User = get_user_model()
        columns = _user_columns()
        row = fetch_row(
            "SELECT t.created, "
            + ", ".join(f'u."{column}"' for column in columns)
            + f" FROM {Token._meta.db_table} AS t JOIN {User._meta.db_table} AS u"
            f' ON u."{User._meta.pk.column}" = t.user_id WHERE t.key = %s',
            [key],
        )
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = from_row(User, **dict(zip(columns, row[1:], strict=True)))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = from_row(Token, key=key, user_id=user.pk, created=row[0])
        token.user = user
        return user, token
