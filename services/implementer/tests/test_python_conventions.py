"""Python fixers follow the code's own conventions and guard the expression that was None (issue 14, items 3-4)."""

from __future__ import annotations

import ast
from datetime import timedelta

from medic_contracts import DiagnosisReady, Evidence, FixStrategy, IssueBrief, IssueType, Producer, Severity, StackFrame
from medic_implementer.domain.failure import FailureFacts, FailureKind, read_failure
from medic_implementer.domain.fixers.python import python_template_fixes
from medic_implementer.domain.fixers.python.conventions import admits_none
from medic_implementer.domain.fixers.python.culprit import none_sites, operation_of
from medic_implementer.domain.hunks import defines_function, is_entry_point


def none_facts(message: str, *, none: set[str] = frozenset(), bound: set[str] = frozenset()) -> FailureFacts:  # type: ignore[assignment]
    return FailureFacts(
        kind=FailureKind.NONE_VALUE,
        exception_type="TypeError",
        message=message,
        none_names=frozenset(none),
        bound_names=frozenset(bound),
    )


def fixes(text: str, line: int, facts: FailureFacts) -> list[str]:
    out = [e.new_text for e in python_template_fixes(path="m.py", text=text, lines=[line], facts=facts)]
    for new in out:
        ast.parse(new)
    return out


# ---- the expression that was None -----------------------------------------------------------------

GREETING = """from fastapi import FastAPI, HTTPException

app = FastAPI()
USERS: dict[str, dict[str, str]] = {}


@app.get("/users/{user_id}/greeting")
def greeting(user_id: str) -> dict[str, str]:
    user = USERS.get(user_id)
    return {"greeting": user["name"].upper(), "plan": user["plan"]}
"""


def test_not_subscriptable_guards_the_subscripted_value_not_the_item() -> None:
    [first, *_] = fixes(GREETING, 10, none_facts("'NoneType' object is not subscriptable", none={"user"}))
    assert "    if user is None:\n        raise HTTPException(status_code=404" in first
    assert 'user["name"] is None' not in first


def test_operation_and_sites_come_from_the_exception_text_and_the_frame() -> None:
    assert operation_of("'NoneType' object is not subscriptable") == "subscript"
    assert operation_of("'NoneType' object has no attribute 'email'") == "attribute"
    assert operation_of("unsupported operand type(s) for *: 'NoneType' and 'float'") == "operand"
    assert operation_of("'NoneType' object is not iterable") == "iterate"
    assert operation_of("division by zero") is None
    stmt = ast.parse("total = rate * weight + fee['x']").body[0]
    nodes = list(ast.walk(stmt))
    [(expr, _)] = none_sites(nodes, none_facts("unsupported operand type(s) for *: 'NoneType' and 'float'")) or []
    assert ast.unparse(expr) == "rate"
    chained = ast.parse("v = a[b][c]").body[0]
    sites = none_sites(list(ast.walk(chained)), none_facts("'NoneType' object is not subscriptable", bound={"a"})) or []
    assert [ast.unparse(e) for e, _ in sites] == ["a[b]"]  # the frame shows `a` held a value


def test_frame_vars_say_which_locals_were_none() -> None:
    frame = StackFrame(file="m.py", function="greeting", line=10, vars={"user": "None", "user_id": "'usr_1'", "x": "[Filtered]"})
    diagnosis = DiagnosisReady(
        producer=Producer(service="investigator", instance="t"),
        issue_id="iss_1",
        issue=IssueBrief(
            target="t",
            service="s",
            title="TypeError: 'NoneType' object is not subscriptable",
            severity=Severity.P2,
            issue_type=IssueType.API_ERROR,
            fingerprint="f",
        ),
        root_cause="x",
        affected_file="m.py",
        fix_strategy=FixStrategy.NULL_GUARD,
        confidence=0.9,
        fixability=0.9,
        estimated_fix_time=timedelta(minutes=1),
        provider="playbook",
        evidence=(Evidence(kind="frame", summary="vars", detail=frame.model_dump_json()),),
    )
    facts = read_failure(diagnosis)
    assert facts.none_names == {"user"}
    assert facts.bound_names == {"user_id"}


# ---- sibling exits and the return contract --------------------------------------------------------

STARLETTE = """from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOMS = {"r1": {"name": "Blue"}}
BOOKINGS = {"r1": {"slots": ["09:00"]}}


async def room(request):
    found = ROOMS.get(request.path_params["room_id"])
    if found is None:
        return JSONResponse({"error": "room not found"}, status_code=404)
    return JSONResponse(found)


async def slots(request):
    booking = BOOKINGS.get(request.path_params["room_id"])
    return JSONResponse({"free": len(booking["slots"]) < 8})


app = Starlette(routes=[Route("/rooms/{room_id}", room), Route("/rooms/{room_id}/slots", slots)])
"""


def test_a_starlette_view_copies_its_modules_jsonresponse_404() -> None:
    [first, *_] = fixes(STARLETTE, 18, none_facts("'NoneType' object is not subscriptable", none={"booking"}))
    assert '    if booking is None:\n        return JSONResponse({"error": "booking not found"}, status_code=404)\n' in first


SHAPES = """def handle(request, orders):
    if not request.get("customer"):
        return {"status": 400, "body": {"error": "customer is required"}}
    order = orders.get(request["order_id"])
    if request.get("legacy"):
        return {"status": 404, "body": {"error": "Legacy orders are gone"}}
    return {"status": 200, "body": {"total": order.total}}


@app.route("/x")
def view(uid):
    return {"name": PEOPLE.get(uid).name}
"""


def test_a_dict_shaped_handler_copies_its_own_404_shape() -> None:
    head = "from flask import Flask\napp = Flask(__name__)\n\n\n@app.route('/o')\n"
    text = head + SHAPES.replace("\n\n@app.route", "\n\n@app.get")
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines, 1) if "order.total" in t)
    [first, *_] = fixes(text, line, none_facts("'NoneType' object has no attribute 'total'", none={"order"}))
    assert '    if order is None:\n        return {"status": 404, "body": {"error": "Order not found"}}\n' in first


WORKER = '''def load(uid: str) -> dict[str, str] | None:
    return None


def send(job: dict[str, str]) -> int:
    """Send one digest."""
    prefs = load(job["user_id"])
    return len(prefs["frequency"])


def maybe(job: dict[str, str]) -> int | None:
    prefs = load(job["user_id"])
    return len(prefs["frequency"])
'''


def test_return_none_only_where_the_annotation_admits_it() -> None:
    message = "'NoneType' object is not subscriptable"
    assert not [f for f in fixes(WORKER, 8, none_facts(message, none={"prefs"})) if "return None" in f]
    optional = fixes(WORKER, 13, none_facts(message, none={"prefs"}))
    assert any("    if prefs is None:\n        return None\n" in f for f in optional)
    cases = {"-> float": False, "-> float | None": True, "-> Optional[int]": True, "-> 'str | None'": True, "": None}
    for ann, admits in cases.items():
        fn = ast.parse(f"def f() {ann}:\n    pass\n").body[0]
        assert isinstance(fn, ast.FunctionDef)
        assert admits_none(fn) is admits, ann


DIGEST = '''DEFAULT_PREFERENCES = {"frequency": "weekly"}
SAVED: dict[str, dict[str, str]] = {}


def load_preferences(uid: str) -> dict[str, str] | None:
    return SAVED.get(uid)


def send_digest(job: dict[str, str]) -> int:
    """Send the digest. Users who never saved preferences get the default."""
    prefs = load_preferences(job["user_id"])
    if prefs["frequency"] != job["cadence"]:
        return 0
    return 1
'''


def test_a_none_lookup_falls_back_to_the_documented_default_constant() -> None:
    [only] = fixes(DIGEST, 12, none_facts("'NoneType' object is not subscriptable", none={"prefs"}))
    assert '    prefs = load_preferences(job["user_id"])\n    if prefs is None:\n        prefs = DEFAULT_PREFERENCES\n' in only
    undocumented = DIGEST.replace("get the default", "get nothing")
    assert fixes(undocumented, 12, none_facts("'NoneType' object is not subscriptable", none={"prefs"})) == []


READINGS = """from typing import Any

from fastapi import APIRouter, HTTPException

router = APIRouter()


@router.post("/meters/{meter_id}/readings")
def reading(meter_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    if "kwh" not in payload:
        raise HTTPException(status_code=422, detail="kwh is required")
    voltage = payload["voltage"]
    return {"stored": True, "brownout": voltage < 210}
"""


def test_a_key_the_handler_does_not_validate_is_optional_and_a_validated_one_copies_the_422() -> None:
    facts = FailureFacts(kind=FailureKind.MISSING_KEY, exception_type="KeyError", message="'voltage'", missing_key="voltage")
    [only] = fixes(READINGS, 12, facts)
    assert 'voltage = payload.get("voltage")' in only
    assert '"brownout": (voltage is not None and voltage < 210)' in only
    assert "raise HTTPException(status_code=400" not in only
    required = READINGS.replace('if "kwh" not in payload:', "if not payload:")
    guards = [f for f in fixes(required, 12, facts) if 'if "voltage" not in payload' in f]
    assert guards and 'raise HTTPException(status_code=422, detail="missing voltage")' in guards[0]


POSITIONS = """from fastapi import APIRouter, HTTPException

router = APIRouter()


@router.get("/couriers/{cid}/last-stop")
def last_stop(cid: str) -> dict[str, str]:
    if cid not in COURIERS:
        raise HTTPException(status_code=404, detail="Courier not found")
    return {"stop": stops_of(cid)[-1]}
"""


def test_an_item_of_a_call_result_is_hoisted_guarded_and_copies_the_404() -> None:
    facts = FailureFacts(kind=FailureKind.OUT_OF_BOUNDS, exception_type="IndexError", message="list index out of range")
    [first, *_] = fixes(POSITIONS, 10, facts)
    assert "    stops_of_found = stops_of(cid)\n    if len(stops_of_found) < 1:\n" in first
    assert 'raise HTTPException(status_code=404, detail="Stops of not found")' in first
    assert 'return {"stop": stops_of_found[-1]}' in first


def test_a_revert_that_deletes_the_failing_function_is_recognised() -> None:
    assert defines_function("def a():\n    pass\n\nasync def hours_today(x):\n    pass\n", "app.main.hours_today", python=True)
    assert not defines_function("def hours(x):\n    pass\n", "hours_today", python=True)
    assert defines_function("export async function GET(req: Request) {}", "GET", python=False)
    assert defines_function("export const GET = async () => {}", "GET", python=False)
    assert not defines_function("export const POST = async () => {}", "GET", python=False)
    route = "@app.get('/x')\ndef hours_today():\n    return helper()\n\n\ndef helper():\n    return 1\n"
    assert is_entry_point(route, "hours_today", python=True)
    assert not is_entry_point(route, "helper", python=True)  # a helper deleted with its caller's use is a revert
    assert is_entry_point("def view(request):\n    pass\n\napp = Starlette(routes=[Route('/v', view)])\n", "view", python=True)
    assert is_entry_point("export async function GET() {}", "GET", python=False)


HELPERS = """from fastapi import HTTPException


def parcel_or_404(parcel_id: str) -> dict[str, str]:
    found = PARCELS.get(parcel_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Parcel not found")
    return found


def latest_scan(parcel_id: str) -> dict[str, str]:
    scans = SCANS.get(parcel_id, [])
    return scans[-1]
"""


def test_a_helper_of_a_web_module_raises_like_its_sibling_helpers_never_returns_none() -> None:
    facts = FailureFacts(kind=FailureKind.OUT_OF_BOUNDS, exception_type="IndexError", message="list index out of range")
    [only] = fixes(HELPERS, 13, facts)
    assert '    if len(scans) < 1:\n        raise HTTPException(status_code=404, detail="Scans not found")\n' in only
    plain = HELPERS.replace("from fastapi import HTTPException\n", "").replace(
        'raise HTTPException(status_code=404, detail="Parcel not found")', "raise LookupError(parcel_id)"
    )
    assert fixes(plain, 12, facts) == []  # `-> dict[str, str]` forbids None and no sibling raises an HTTP error


def test_only_an_early_exit_on_a_missing_key_makes_the_other_keys_optional() -> None:
    facts = FailureFacts(kind=FailureKind.MISSING_KEY, exception_type="KeyError", message="'voltage'", missing_key="voltage")
    soft = READINGS.replace(
        '    if "kwh" not in payload:\n        raise HTTPException(status_code=422, detail="kwh is required")\n',
        '    if "note" in payload:\n        NOTES.append(payload["note"])\n',
    )
    assert any('if "voltage" not in payload' in f for f in fixes(soft, 12, facts))  # nothing says voltage is optional


SLOTS = """from starlette.responses import JSONResponse


async def slots(request):
    if request.query_params.get("days") == "0":
        return JSONResponse({"error": "days must be at least 1"}, status_code=422)
    days = request.query_params.get("days", 7)
    return JSONResponse({"days": [str(n) for n in range(days)]})


def count(params):
    limit = params.get("limit", 10)
    return list(range(limit))


app = Starlette(routes=[Route("/slots", slots)])
"""


def test_request_text_used_as_a_number_is_converted_and_bad_input_takes_the_handlers_own_4xx() -> None:
    facts = FailureFacts(
        kind=FailureKind.WRONG_TYPE, exception_type="TypeError", message="'str' object cannot be interpreted as an integer"
    )
    [guarded, converted, *_] = fixes(SLOTS, 8, facts)
    assert (
        '    try:\n        days = int(request.query_params.get("days", 7))\n    except ValueError:\n'
        '        return JSONResponse({"error": "days must be a number"}, status_code=422)\n'
    ) in guarded
    assert '    days = int(request.query_params.get("days", 7))\n' in converted
    # Outside a handler there is no bad-input answer to copy: only the conversion.
    [only] = fixes(SLOTS, 13, facts)
    assert '    limit = int(params.get("limit", 10))\n' in only and "except" not in only


def test_an_item_of_a_list_read_from_a_call_result_is_hoisted_under_the_lists_own_name() -> None:
    text = POSITIONS.replace(
        'return {"stop": stops_of(cid)[-1]}', 'lat, lon = vehicle(cid)["pings"][-1]\n    return {"at": [lat, lon]}'
    )
    facts = FailureFacts(kind=FailureKind.OUT_OF_BOUNDS, exception_type="IndexError", message="list index out of range")
    [first, *_] = fixes(text, 10, facts)
    assert '    pings = vehicle(cid)["pings"]\n    if len(pings) < 1:\n' in first
    assert "    lat, lon = pings[-1]\n" in first  # the call still runs once, first, as before
