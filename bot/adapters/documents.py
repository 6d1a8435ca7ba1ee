"""Printable documents over HTTP: a contract's PDF for its parties (the link in their chat)."""

from __future__ import annotations

import hmac

from aiohttp import web

from market import contracts
from market.errors import UserFacingError
from market.settings import MarketSettings
from storage.db import Database
from storage.models import Contract


class Documents:
    """Serves a contract's printable PDF to whoever holds its link (the parties, from their chat)."""

    def __init__(self, db: Database, market: MarketSettings) -> None:
        self.db = db
        self.market = market

    def routes(self) -> list[web.RouteDef]:
        # The path shape is market.contracts.pdf_path.
        return [web.get(r"/contracts/{id:\d{1,18}}/{token:[A-Za-z0-9_-]{22}}.pdf", self.contract_pdf)]

    async def contract_pdf(self, request: web.Request) -> web.Response:
        contract_id = int(request.match_info["id"])
        async with self.db.reader() as session:
            contract = await session.get(Contract, contract_id)
            token = request.match_info["token"].encode("ascii")
            if (
                contract is None
                or not contract.link_token
                or not hmac.compare_digest(contract.link_token.encode("ascii"), token)
            ):
                raise web.HTTPNotFound(text="没有这份合同")
            try:
                data = await contracts.render_pdf(session, contract_id, self.market)
            except UserFacingError as exc:
                raise web.HTTPNotFound(text=str(exc)) from exc
        return web.Response(
            body=data,
            content_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="contract-{contract_id}.pdf"'},
        )
