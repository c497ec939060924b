"""VMBus: control messages, packet types, the channel handshake and ring-buffer bookkeeping.

All codes come from docs/sources.md (#vmbus, and #synthetic-path for storvsc): control messages
travel as SynIC messages posted with the generic HvCallPostMessage hypercall (0x5C); data
travels through shared ring buffers, and a side signals the other with HvCallSignalEvent
(0x5D) or a monitor-page bit only when a ring goes from empty to non-empty. There is no
dedicated VMBus hypercall.
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import CostModel
from .trace import Trace

# VMBus control messages (docs/sources.md#vmbus).
CHANNELMSG_OFFERCHANNEL = 1
CHANNELMSG_RESCIND_CHANNELOFFER = 2
CHANNELMSG_REQUESTOFFERS = 3
CHANNELMSG_ALLOFFERS_DELIVERED = 4
CHANNELMSG_OPENCHANNEL = 5
CHANNELMSG_OPENCHANNEL_RESULT = 6
CHANNELMSG_CLOSECHANNEL = 7
CHANNELMSG_GPADL_HEADER = 8
CHANNELMSG_GPADL_BODY = 9
CHANNELMSG_GPADL_CREATED = 10
CHANNELMSG_GPADL_TEARDOWN = 11
CHANNELMSG_GPADL_TORNDOWN = 12
CHANNELMSG_RELID_RELEASED = 13
CHANNELMSG_INITIATE_CONTACT = 14
CHANNELMSG_VERSION_RESPONSE = 15
CHANNELMSG_UNLOAD = 16

CONTROL_MESSAGE_NAMES: dict[int, str] = {
    1: "OfferChannel",
    2: "RescindChannelOffer",
    3: "RequestOffers",
    4: "AllOffersDelivered",
    5: "OpenChannel",
    6: "OpenResult",
    7: "CloseChannel",
    8: "GpadlHeader",
    9: "GpadlBody",
    10: "GpadlCreated",
    11: "GpadlTeardown",
    12: "GpadlTorndown",
    13: "RelIdReleased",
    14: "InitiateContact",
    15: "VersionResponse",
    16: "Unload",
}

# Ring-buffer packet types (docs/sources.md#vmbus).
PACKET_SYNCH = 0x1
PACKET_ADD_TRANSFER_PAGE_SET = 0x2
PACKET_REMOVE_TRANSFER_PAGE_SET = 0x3
PACKET_ESTABLISH_GPADL = 0x4
PACKET_TEARDOWN_GPADL = 0x5
PACKET_DATA_INBAND = 0x6
PACKET_DATA_USING_TRANSFER_PAGES = 0x7
PACKET_DATA_USING_GPADL = 0x8
PACKET_DATA_USING_GPA_DIRECT = 0x9
PACKET_CANCEL_REQUEST = 0xA
PACKET_COMPLETION = 0xB

PACKET_TYPE_NAMES: dict[int, str] = {
    0x1: "Synch",
    0x2: "AddTransferPageSet",
    0x3: "RemoveTransferPageSet",
    0x4: "EstablishGpadl",
    0x5: "TeardownGpadl",
    0x6: "InBand",
    0x7: "TransferPages",
    0x8: "Gpadl",
    0x9: "GpaDirect",
    0xA: "Cancel",
    0xB: "Completion",
}

# VSTOR_PACKET operations (docs/sources.md#synthetic-path, Linux vstorage.h).
VSTOR_COMPLETE_IO = 1
VSTOR_REMOVE_DEVICE = 2
VSTOR_EXECUTE_SRB = 3
VSTOR_RESET_LUN = 4
VSTOR_RESET_ADAPTER = 5
VSTOR_RESET_BUS = 6
VSTOR_BEGIN_INITIALIZATION = 7
VSTOR_END_INITIALIZATION = 8
VSTOR_QUERY_PROTOCOL_VERSION = 9
VSTOR_QUERY_PROPERTIES = 10

VSTOR_OPERATION_NAMES: dict[int, str] = {
    1: "COMPLETE_IO",
    2: "REMOVE_DEVICE",
    3: "EXECUTE_SRB",
    4: "RESET_LUN",
    5: "RESET_ADAPTER",
    6: "RESET_BUS",
    7: "BEGIN_INITIALIZATION",
    8: "END_INITIALIZATION",
    9: "QUERY_PROTOCOL_VERSION",
    10: "QUERY_PROPERTIES",
}

# NVSP messages (docs/sources.md#synthetic-path).
NVSP_INIT = 1
NVSP_INIT_COMPLETE = 2
NVSP_SEND_NDIS_VERSION = 100
NVSP_SEND_RECEIVE_BUFFER = 101
NVSP_SEND_RNDIS_PACKET = 107
NVSP_SEND_RNDIS_PACKET_COMPLETE = 108

# Hypercalls (docs/sources.md#hypercalls, V1 codes).
HVCALL_POST_MESSAGE = 0x5C
HVCALL_SIGNAL_EVENT = 0x5D


@dataclass
class Channel:
    """One open VMBus channel between a VSC in a child and a VSP in the root."""

    device: str
    vsc: str
    vsp: str
    child_relid: int
    ring_pages: int
    outbound_pending: int = 0
    inbound_pending: int = 0


@dataclass(frozen=True)
class DeviceOffer:
    """A device the root offers on a VMBus: its class name, the guest VSC driver, and the root VSP."""

    device: str
    vsc: str
    vsp: str
    ring_pages: int


def _hex(code: int) -> str:
    return f"0x{code:X}"


def handshake(
    trace: Trace,
    cost: CostModel,
    *,
    vm: str,
    offers: list[DeviceOffer],
    opened: list[str],
    host_version: str,
    vmbus_version: str,
    storage_protocol: str,
) -> dict[str, Channel]:
    """Trace the VMBus connect/offer/open handshake and device initialisation; return the open channels by device.

    Order (docs/sources.md#vmbus): InitiateContact(14) -> VersionResponse(15) -> RequestOffers(3) ->
    OfferChannel(1) per device -> AllOffersDelivered(4) -> per opened channel: GpadlHeader(8)
    [GpadlBody(9)] -> GpadlCreated(10) -> OpenChannel(5) -> OpenResult(6) -> device init.
    """
    post_ns = cost.cycles_to_ns(cost.hypercall_cycles + cost.vm_exit_cycles)

    def guest_msg(code: int, summary: str, **fields: object) -> None:
        trace.emit(
            partition=vm,
            component="vmbus",
            mode="kernel",
            kind="vmbus_message",
            summary=summary,
            cost_ns=post_ns,
            direction="child->root",
            message=CONTROL_MESSAGE_NAMES[code],
            message_type=code,
            hypercall=_hex(HVCALL_POST_MESSAGE),
            **fields,
        )
        trace.count("vmbus_control_messages")
        trace.count("hypercalls")
        trace.count("vm_exits")

    def root_msg(code: int, summary: str, **fields: object) -> None:
        trace.emit(
            partition="root",
            component="vmbus",
            mode="kernel",
            kind="vmbus_message",
            summary=summary,
            cost_ns=post_ns,
            direction="root->child",
            message=CONTROL_MESSAGE_NAMES[code],
            message_type=code,
            hypercall=_hex(HVCALL_POST_MESSAGE),
            vm=vm,
            **fields,
        )
        trace.count("vmbus_control_messages")
        trace.count("hypercalls")

    guest_msg(
        CHANNELMSG_INITIATE_CONTACT,
        f"The VMBus driver in {vm} posts InitiateContact (14) to the root with HvCallPostMessage (0x5C), "
        f"proposing VMBus version {vmbus_version}.",
        vmbus_version=vmbus_version,
    )
    root_msg(
        CHANNELMSG_VERSION_RESPONSE,
        f"The root's VMBus driver answers VersionResponse (15): version {vmbus_version} is supported "
        f"by this Windows Server {host_version} host.",
        version_supported=True,
    )
    guest_msg(CHANNELMSG_REQUESTOFFERS, f"The VMBus driver in {vm} posts RequestOffers (3) to learn its devices.")
    relids: dict[str, int] = {}
    for relid, offer in enumerate(offers, start=1):
        relids[offer.device] = relid
        root_msg(
            CHANNELMSG_OFFERCHANNEL,
            f"The root offers the {offer.device} channel (OfferChannel (1), child relid {relid}), served by "
            f"{offer.vsp} in the root kernel.",
            device=offer.device,
            child_relid=relid,
        )
    root_msg(CHANNELMSG_ALLOFFERS_DELIVERED, f"The root sends AllOffersDelivered (4): {len(offers)} channels offered.")
    channels: dict[str, Channel] = {}
    gpadl_id = 0
    for offer in offers:
        if offer.device not in opened:
            continue
        relid = relids[offer.device]
        gpadl_id += 1
        pages = 2 * offer.ring_pages
        body_messages = max(0, -(-(pages - cost.gpadl_header_max_pfns) // max(1, cost.gpadl_header_max_pfns)))
        guest_msg(
            CHANNELMSG_GPADL_HEADER,
            f"{offer.vsc} in {vm} allocates its ring buffers ({offer.ring_pages} pages outbound + "
            f"{offer.ring_pages} pages inbound, each direction starting with a 4 KB header page) and describes them "
            f"to the root with GpadlHeader (8), GPADL {gpadl_id}.",
            device=offer.device,
            gpadl=gpadl_id,
            pages=pages,
        )
        for body in range(body_messages):
            guest_msg(
                CHANNELMSG_GPADL_BODY,
                f"The page list of GPADL {gpadl_id} does not fit in one message, so {offer.vsc} sends "
                f"GpadlBody (9) number {body + 1}.",
                device=offer.device,
                gpadl=gpadl_id,
            )
        root_msg(
            CHANNELMSG_GPADL_CREATED,
            f"The root maps GPADL {gpadl_id} and answers GpadlCreated (10), status 0.",
            device=offer.device,
            gpadl=gpadl_id,
            status=0,
        )
        guest_msg(
            CHANNELMSG_OPENCHANNEL,
            f"{offer.vsc} in {vm} sends OpenChannel (5) for relid {relid} using ring GPADL {gpadl_id}.",
            device=offer.device,
            child_relid=relid,
            gpadl=gpadl_id,
        )
        root_msg(
            CHANNELMSG_OPENCHANNEL_RESULT,
            f"{offer.vsp} accepts: OpenResult (6) for relid {relid}, status 0; the {offer.device} channel is open.",
            device=offer.device,
            child_relid=relid,
            status=0,
        )
        channels[offer.device] = Channel(offer.device, offer.vsc, offer.vsp, relid, offer.ring_pages)
    for device in sorted(channels):
        channel = channels[device]
        if device == "storage":
            _storage_init(trace, cost, vm, channel, storage_protocol)
        elif device == "network":
            _network_init(trace, cost, vm, channel)
    return channels


def _storage_init(trace: Trace, cost: CostModel, vm: str, channel: Channel, protocol: str) -> None:
    """Trace storvsc's four-step device initialisation, each an in-band packet answered by COMPLETE_IO."""
    ring_ns = cost.cycles_to_ns(cost.vsp_processing_cycles)
    steps = [
        (VSTOR_BEGIN_INITIALIZATION, "to start initialising the storage channel"),
        (VSTOR_QUERY_PROTOCOL_VERSION, f"asking for storage protocol version {protocol}"),
        (VSTOR_QUERY_PROPERTIES, "to learn the channel's properties (maximum transfer size, path and target)"),
        (VSTOR_END_INITIALIZATION, "to finish initialisation"),
    ]
    for op, why in steps:
        name = VSTOR_OPERATION_NAMES[op]
        trace.emit(
            partition=vm,
            component=channel.vsc,
            mode="kernel",
            kind="vmbus_packet",
            summary=(
                f"{channel.vsc} in {vm} sends VSTOR_PACKET {name} ({op}) as an in-band packet (type 0x6) asking for "
                f"completion, {why}."
            ),
            cost_ns=ring_ns,
            packet_type=PACKET_DATA_INBAND,
            vstor_operation=op,
            vstor_operation_name=name,
            direction="child->root",
        )
        trace.emit(
            partition="root",
            component=channel.vsp,
            mode="kernel",
            kind="vmbus_packet",
            summary=f"{channel.vsp} answers {name} with COMPLETE_IO (1), status 0.",
            cost_ns=ring_ns,
            packet_type=PACKET_COMPLETION,
            vstor_operation=VSTOR_COMPLETE_IO,
            vstor_operation_name="COMPLETE_IO",
            status=0,
            direction="root->child",
            vm=vm,
        )
        trace.count("vmbus_packets", 2)


def _network_init(trace: Trace, cost: CostModel, vm: str, channel: Channel) -> None:
    """Trace the start of netvsc's NVSP initialisation (Init -> InitComplete, then SendNdisVersion)."""
    ring_ns = cost.cycles_to_ns(cost.vsp_processing_cycles)
    trace.emit(
        partition=vm,
        component=channel.vsc,
        mode="kernel",
        kind="vmbus_packet",
        summary=f"{channel.vsc} in {vm} sends the NVSP message Init (1) to start the network protocol.",
        cost_ns=ring_ns,
        packet_type=PACKET_DATA_INBAND,
        nvsp_message=NVSP_INIT,
        direction="child->root",
    )
    trace.emit(
        partition="root",
        component=channel.vsp,
        mode="kernel",
        kind="vmbus_packet",
        summary=f"{channel.vsp} replies InitComplete (2), status success.",
        cost_ns=ring_ns,
        packet_type=PACKET_DATA_INBAND,
        nvsp_message=NVSP_INIT_COMPLETE,
        direction="root->child",
        vm=vm,
    )
    trace.emit(
        partition=vm,
        component=channel.vsc,
        mode="kernel",
        kind="vmbus_packet",
        summary=(
            f"{channel.vsc} sends SendNdisVersion (100); it then shares its receive buffer (SendReceiveBuffer, 101) "
            "and RNDIS traffic can flow."
        ),
        cost_ns=ring_ns,
        packet_type=PACKET_DATA_INBAND,
        nvsp_message=NVSP_SEND_NDIS_VERSION,
        direction="child->root",
    )
    trace.count("vmbus_packets", 3)
