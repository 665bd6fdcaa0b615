"""Drives one emulated BMC with sushy, the Redfish library Ironic uses.

Run with Debian's Python (/usr/bin/python3, which has python3-sushy). Reads
one JSON object from stdin: phase ("main", "cleanup" or "inventory"), url,
username, password, systemPath, destination. Prints one JSON object with what
sushy saw. "main" reads and sets every light and subscribes; "cleanup" deletes
the subscriptions it made (after the caller saw the test event arrive);
"inventory" only reads what Ironic reads of a host (any vendor profile). The password comes in on stdin so
it never shows in a process listing.
"""
import json
import sys

import sushy
from sushy import auth

args = json.load(sys.stdin)
result = {}

root = sushy.Sushy(
    args["url"],
    auth=auth.SessionOrBasicAuth(username=args["username"], password=args["password"]),
)
result["redfishVersion"] = root.redfish_version
result["serviceUUID"] = root.uuid

if args["phase"] == "cleanup":
    subscriptions = root.get_event_service().subscriptions
    for member in subscriptions.get_members():
        if member.context == "sushy-context":
            member.delete()
    result["members"] = list(root.get_event_service().subscriptions.members_identities)
    print(json.dumps(result))
    sys.exit(0)

def value(enum):
    return None if enum is None else enum.value


if args["phase"] == "inventory":
    system = root.get_system(args["systemPath"])
    result["systemUUID"] = system.uuid
    result["systemLight"] = value(system.indicator_led)
    result["powerState"] = value(system.power_state)
    result["chassis"] = [{"uuid": c.uuid, "light": value(c.indicator_led)} for c in system.chassis]
    result["drives"] = []
    for storage in system.storage.get_members():
        for drive in storage.drives:
            result["drives"].append({"storage": storage.identity, "id": drive.identity, "serial": drive.serial_number})
    result["subscriptions"] = list(root.get_event_service().subscriptions.members_identities)
    print(json.dumps(result))
    sys.exit(0)

system = root.get_system(args["systemPath"])
result["systemUUID"] = system.uuid
result["systemLightBefore"] = system.indicator_led.value
system.set_indicator_led(sushy.INDICATOR_LED_LIT)
system.refresh()
result["systemLightAfter"] = system.indicator_led.value
result["powerState"] = system.power_state.value

result["chassis"] = []
for chassis in system.chassis:
    chassis.set_indicator_led(sushy.INDICATOR_LED_BLINKING)
    chassis.refresh()
    result["chassis"].append({"uuid": chassis.uuid, "type": chassis.chassis_type.value, "light": chassis.indicator_led.value})

result["drives"] = []
for storage in system.storage.get_members():
    for drive in storage.drives:
        drive.set_indicator_led(sushy.INDICATOR_LED_BLINKING)
        drive.refresh()
        result["drives"].append(
            {"storage": storage.identity, "id": drive.identity, "serial": drive.serial_number, "light": drive.indicator_led.value}
        )

try:
    system.set_indicator_led("Purple")
    result["badLight"] = "accepted"
except sushy.exceptions.InvalidParameterValueError as error:
    result["badLight"] = type(error).__name__

events = root.get_event_service()
result["retryAttempts"] = events.delivery_retry_attempts
subscription = events.subscriptions.create(
    {
        "Destination": args["destination"],
        "Protocol": "Redfish",
        "Context": "sushy-context",
        "EventTypes": ["Alert"],
        "HttpHeaders": [{"X-Sushy-Token": "sushy-secret"}],
    }
)
result["subscription"] = {
    "id": subscription.identity,
    "context": subscription.context,
    "destination": subscription.destination,
    "httpHeaders": subscription.http_headers,
}
result["members"] = [m.identity for m in events.subscriptions.get_members()]
events.submit_test_event(
    "sushy-1",
    "2026-01-01T00:00:00Z",
    "Alert",
    "Test event from sushy",
    ["1"],
    "TestEvent.1.0.FromSushy",
    args["systemPath"],
    "Warning",
)

try:
    events.subscriptions.create({"Destination": "ftp://127.0.0.1/x", "Protocol": "FTP"})
    result["ftp"] = "accepted"
except sushy.exceptions.BadRequestError as error:
    result["ftp"] = str(error)

print(json.dumps(result))
