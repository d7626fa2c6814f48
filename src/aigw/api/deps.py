"""FastAPI dependencies shared by the routers: the gateway, and the caller at each access level."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from aigw.gateway import Gateway
from aigw.policy.caller import Caller


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def any_key(request: Request) -> Caller:
    """Any valid key (or the master key); 401 otherwise. Authenticated once per request: the
    route class (`gateway_route`) has usually done it already."""
    caller: Caller = request.app.state.auth.authenticate(request)
    return caller


def master_key(request: Request) -> Caller:
    """The master key only; 401/403 otherwise."""
    caller: Caller = request.app.state.auth.require_admin(request)
    return caller


GatewayDep = Annotated[Gateway, Depends(gateway_of)]
CallerDep = Annotated[Caller, Depends(any_key)]
AdminDep = Annotated[Caller, Depends(master_key)]
