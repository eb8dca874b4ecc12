"""Fulfilment: imported seller-fulfilled orders go to the supplier once, and the shipment goes back to Amazon.

The outbox ``mip.fulfilment_orders`` (Alembic 0015) holds one row per order and its state:

    gated -> checked -> sending -> sent -> tracked -> confirmed
       \\-> refused (reason, fix)      cancelled (Amazon cancelled it before it was sent)

Steps (``step(key, conn, [gateway], **params)``, run by ``mip_fulfil__<channel>``): ``gate.gate`` (data
quality into the outbox), ``send.send`` (address through a Restricted Data Token, check and create at the
supplier, recorded before sent), ``track.track`` (the supplier's tracking), ``confirm.confirm``
(confirmShipment), ``risk.refusals`` and ``risk.late_shipment_risk`` (the gates that alert). docs/fulfilment.md.
"""
