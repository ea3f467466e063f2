"""Tryton behind the ERP ports, over its JSON-RPC HTTP interface (`/<db>/rpc/`).

Tryton (trytond) is GPL: nothing of it is imported here; we are a separate program that talks
its protocol with httpx. rpc.py is the session and error mapping, the other modules the ports.
"""
