"""The signal-type registry: its contents, each type's normalise/validate/distance on its own
examples, vPDQ refused honestly at every door, and a toy type registered in a test accepted by
every registry-driven path (schemas, bank import formats, the lookup check, the matcher, HTTP)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from haven.banks.formats import EntryIn, check_entries, parse_csv
from haven.banks.matcher import EntryMeta, Matcher
from haven.banks.schemas import EntryInModel
from haven.core.errors import Invalid
from haven.intake.api import check_hashes
from haven.intake.schemas import HashQuery, LookupRequest
from haven.signals.types import PDQ, REGISTRY, VPDQ, HexSignalType, InvalidSignal, SignalType, SignalTypeRegistry
from haven.signals.types.vpdq import from_value, to_value
from haven.signals.video import FrameHash
from tests.conftest import LiveServer

#: A stand-in for a future exact hash: 48 hex digits, inside the wire schemas' length bounds.
TOY = HexSignalType("toy48", 48, media_kinds=frozenset({"file"}), examples=("ab" * 24, "cd" * 24))


def test_registry_holds_the_five_types_and_says_which_doors_take_them() -> None:
    assert REGISTRY.names() == ("md5", "sha1", "sha256", "pdq", "vpdq")
    assert REGISTRY.names("bank") == REGISTRY.names("lookup") == ("md5", "sha1", "sha256", "pdq")
    assert [t.name for t in REGISTRY if t.exact] == ["md5", "sha1", "sha256"]
    assert (PDQ.default_threshold, VPDQ.default_threshold) == (31, 20)
    assert not VPDQ.bankable and not VPDQ.lookupable and "per-frame" in VPDQ.unsupported_reason
    assert REGISTRY.length_bounds("bank") == (32, 64)
    assert all(isinstance(t, SignalType) for t in REGISTRY)
    assert REGISTRY["md5"].media_kinds >= {"image", "video"} and PDQ.media_kinds == {"image"}


@pytest.mark.parametrize("name", REGISTRY.names())
def test_each_type_validates_normalises_and_compares_its_examples(name: str) -> None:
    t = REGISTRY[name]
    assert len(t.examples) >= 2
    for ex in t.examples:
        assert t.validate(ex) == ex == t.normalise(ex) and t.is_valid(ex)
        assert t.min_length <= len(ex) <= t.max_length
        assert t.distance(ex, ex) == 0
    a, b = t.examples[:2]
    assert t.distance(a, b) == t.distance(b, a) > 0
    with pytest.raises(InvalidSignal):
        t.validate("not a hash")
    assert not t.is_valid("zz")


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "pdq"])
def test_hex_types_lowercase_and_strip_and_refuse_wrong_lengths(name: str) -> None:
    t = REGISTRY[name]
    ex = t.examples[0]
    assert t.validate(f"  {ex.upper()}\n") == ex
    assert not t.is_valid(ex[:-1]) and not t.is_valid(ex + "0") and not t.is_valid(ex.upper())
    with pytest.raises(InvalidSignal, match=f"not a valid {name} value"):
        t.validate(ex[:-1] + "g")


def test_pdq_distance_is_hamming_and_exact_types_are_equality() -> None:
    a, b = PDQ.examples
    assert PDQ.distance(a, b) == 4 and PDQ.distance(a, "0" * 64) == bin(int(a, 16)).count("1")
    md5 = REGISTRY["md5"]
    assert md5.distance(md5.examples[0], md5.examples[1]) == 1


def test_vpdq_value_is_a_list_of_frame_features() -> None:
    h = PDQ.examples[0]
    frames = [FrameHash(0, 0.0, 90, h), FrameHash(1, 1.0, 80, PDQ.examples[1])]
    value = to_value(frames)
    assert value == f'["{h},90,0.000","{PDQ.examples[1]},80,1.000"]'
    assert [(f.pdq, f.quality, f.timestamp) for f in from_value(value)] == [(h, 90, 0.0), (PDQ.examples[1], 80, 1.0)]
    assert VPDQ.normalise(f'[ "{h.upper()},90,0" ]') == f'["{h},90,0.000"]'
    other = to_value([FrameHash(0, 0.0, 90, "0" * 64)])
    assert VPDQ.distance(value, value) == 0 and VPDQ.distance(value, other) == 100
    half = to_value([FrameHash(0, 0.0, 90, h), FrameHash(1, 1.0, 90, "0" * 64)])
    assert VPDQ.distance(value, half) == 50  # half of `half`'s frames are in `value`
    for bad in ("", "[]", '["x,1,0"]', f'["{h},101,0"]', f'["{h},50"]', "{}"):
        assert not VPDQ.is_valid(bad)


def test_registry_refuses_duplicates_and_non_signal_types() -> None:
    r = SignalTypeRegistry()
    r.register(TOY)
    with pytest.raises(ValueError, match="registered already"):
        r.register(TOY)
    with pytest.raises(TypeError):
        r.register(object())  # type: ignore[arg-type]
    r.unregister("toy48")
    assert "toy48" not in r and r.accepted["bank"] == set()


def test_vpdq_is_refused_with_its_reason_by_schemas_and_imports() -> None:
    value = VPDQ.examples[0]
    for model in (EntryInModel, HashQuery):
        with pytest.raises(ValidationError) as exc:
            model.model_validate({"signal_type": "vpdq", "value": "a" * 32})
        assert exc.value.errors()[0]["type"] == "signal_type_unsupported"
        assert "per-frame feature lists" in exc.value.errors()[0]["msg"]
    with pytest.raises(Invalid) as inv:
        check_entries([(1, EntryIn("vpdq", value))])
    assert inv.value.code == "invalid_entries"
    assert "vpdq entries cannot be banked" in inv.value.details["problems"][0]["problem"]


def test_unknown_types_get_the_literal_error_shape() -> None:
    with pytest.raises(ValidationError) as exc:
        HashQuery.model_validate({"signal_type": "crc32", "value": "a" * 32})
    err = exc.value.errors()[0]
    assert err["type"] == "literal_error" and err["msg"] == "Input should be 'md5', 'sha1', 'sha256' or 'pdq'"
    with pytest.raises(Invalid, match="unknown signal_type 'crc32'"):
        check_entries([(1, EntryIn("crc32", "a" * 32))])


def test_a_toy_type_registered_in_a_test_is_accepted_by_every_registry_driven_path() -> None:
    value = TOY.examples[0]
    with pytest.raises(ValidationError):
        EntryInModel.model_validate({"signal_type": "toy48", "value": value})
    with REGISTRY.registered(TOY):
        assert REGISTRY.names("bank")[-1] == "toy48"
        # Wire schemas (bank entries, lookups) and their OpenAPI enum.
        assert EntryInModel.model_validate({"signal_type": "toy48", "value": value}).signal_type == "toy48"
        body = LookupRequest.model_validate({"hashes": [{"signal_type": "toy48", "value": value.upper()}]})
        assert "toy48" in HashQuery.model_json_schema()["properties"]["signal_type"]["enum"]
        # The lookup door's value check normalises by the type and flags malformed values.
        assert check_hashes(body) == ([("toy48", value, None)], [])
        bad = LookupRequest.model_validate({"hashes": [{"signal_type": "toy48", "value": "g" * 48}]})
        assert check_hashes(bad)[1] == [{"index": 0, "problem": "not a valid toy48 value"}]
        # Bank import formats.
        assert parse_csv(f"signal_type,value\ntoy48,{value.upper()}\n") == [EntryIn("toy48", value)]
        with pytest.raises(Invalid, match="not a valid toy48 value"):
            parse_csv(f"signal_type,value\ntoy48,{value[:-2]}\n")
        # The matcher indexes an exact type in its dictionaries.
        m = Matcher()
        m.apply([(EntryMeta("e1", "b1", "known_csam", "toy48", value, None, 0, False), True)], seq=1)
        assert [h.entry.entry_id for h in m.match_exact("toy48", value)] == ["e1"]
    assert "toy48" not in REGISTRY and "toy48" not in REGISTRY.accepted["bank"]
    with pytest.raises(ValidationError):
        EntryInModel.model_validate({"signal_type": "toy48", "value": value})


def test_a_toy_type_banks_and_matches_over_http(server: LiveServer, api_key: str) -> None:
    value = TOY.examples[1]
    with REGISTRY.registered(TOY), server.client(api_key) as c:
        c.post("/v1/banks", json={"name": "toys", "kind": "known_exploitation"})
        r = c.post("/v1/banks/toys/entries", json={"entries": [{"signal_type": "toy48", "value": value}]})
        assert r.status_code == 201, r.text
        r = c.post("/v1/hashes/lookup", json={"hashes": [{"signal_type": "toy48", "value": value.upper()}]})
        assert r.status_code == 200, r.text
        result = r.json()["results"][0]
        assert result["value"] == value and [m["signal_type"] for m in result["matches"]] == ["toy48"]
        assert result["verdict"]["action"] == "block"
        bad = c.post("/v1/hashes/lookup", json={"hashes": [{"signal_type": "toy48", "value": "g" * 48}]})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_hash"


def test_vpdq_and_the_enum_over_http(server: LiveServer, api_key: str) -> None:
    with server.client(api_key) as c:
        spec = c.get("/openapi.json").json()["components"]["schemas"]
        for name in ("HashQuery", "EntryInModel"):
            assert spec[name]["properties"]["signal_type"]["enum"] == ["md5", "sha1", "sha256", "pdq"]
        c.post("/v1/banks", json={"name": "v", "kind": "known_csam"})
        r = c.post("/v1/banks/v/entries", json={"entries": [{"signal_type": "vpdq", "value": "a" * 64}]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
        assert "vpdq entries cannot be banked" in r.json()["error"]["message"]
        r = c.post("/v1/banks/v/import?format=csv", content=f"signal_type,value\nvpdq,{PDQ.examples[0]}\n")
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_entries"
        assert "vpdq entries cannot be banked" in r.json()["error"]["message"]
        r = c.post("/v1/hashes/lookup", json={"hashes": [{"signal_type": "vpdq", "value": "a" * 64}]})
        assert r.status_code == 422 and "send each frame's PDQ hash" in r.json()["error"]["message"]
