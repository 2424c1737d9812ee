"""The Shadow 3.x config mirror: units, models, cross-field rules and error messages."""

from __future__ import annotations

import copy
import lzma
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_monerosim.backends.shadow.schema import (
    ShadowConfig,
    ShadowConfigError,
    validate_shadow_config,
)
from pytest_monerosim.shadow_units import (
    UnitError,
    format_bandwidth,
    format_time,
    parse_bandwidth,
    parse_bytes,
    parse_time,
    parse_time_ns,
)

GML = """\
graph [
  directed 0
  node [
    id 0
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  node [
    id 1
    host_bandwidth_down "1 Gbit"
    host_bandwidth_up "1 Gbit"
  ]
  edge [
    source 0
    target 0
    latency "5 ms"
    packet_loss 0.0
  ]
  edge [
    source 1
    target 1
    latency "5 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 1
    latency "25 ms"
    packet_loss 0.0
  ]
]
"""

MINIMAL: dict[str, Any] = {
    "general": {"stop_time": "10 min"},
    "network": {"graph": {"type": "gml", "inline": GML}},
    "hosts": {
        "node-a": {
            "network_node_id": 0,
            "processes": [
                {
                    "path": "/usr/bin/monerod",
                    "args": ["--regtest", "--offline"],
                    "environment": {"PATH": "/usr/bin", "HOME": "/tmp"},
                    "start_time": "1 s",
                    "expected_final_state": "running",
                }
            ],
        },
        "node-b.example": {
            "network_node_id": 1,
            "processes": [{"path": "/bin/true", "args": "--flag 'two words'"}],
        },
    },
}


def config(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(MINIMAL) | changes


def proc(data: dict[str, Any], host: str = "node-a") -> dict[str, Any]:
    process: dict[str, Any] = data["hosts"][host]["processes"][0]
    return process


def error_of(data: Any, **kwargs: Any) -> ShadowConfigError:
    with pytest.raises(ShadowConfigError) as info:
        validate_shadow_config(data, **kwargs)
    return info.value


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("5 ms", 5_000_000),
        ("5ms", 5_000_000),
        ("6 h", 6 * 3600 * 10**9),
        ("30 min", 1800 * 10**9),
        ("10 m", 600 * 10**9),  # "m" is minutes in Shadow, not milliseconds
        ("3600", 3600 * 10**9),
        (3600, 3600 * 10**9),
        ("2 hours", 7200 * 10**9),
        ("7 us", 7000),
        ("7 μs", 7000),
        ("9 nanoseconds", 9),
        ("1 sec", 10**9),
    ],
)
def test_parse_time_accepts_shadow_forms(text: str | int, ns: int) -> None:
    assert parse_time_ns(text) == ns


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1.5 s", 'write "1500 ms"'),
        ("-1 s", "negative"),
        ("5 fortnights", "unknown time unit 'fortnights'"),
        ("5 MS", "unknown time unit 'MS'"),
        ("ms", "does not start with a number"),
        (1.5, "float"),
        (True, "bool"),
    ],
)
def test_parse_time_rejects(text: Any, fragment: str) -> None:
    with pytest.raises(UnitError, match=fragment) as info:
        parse_time(text)
    assert "25 ms" in info.value.accepted


@pytest.mark.parametrize(
    ("text", "bits"),
    [
        ("10 Mbit", 10**7),
        ("10 Mbits", 10**7),
        ("10 megabit", 10**7),
        ("1 Kibit", 1024),
        ("1 gibibit", 2**30),
        ("1000", 1000),
        ("3 bit", 3),
    ],
)
def test_parse_bandwidth(text: str, bits: int) -> None:
    assert parse_bandwidth(text) == bits


@pytest.mark.parametrize("text", ["10 mbit", "10 Mb", "10 MB", "1.5 Gbit", "10 kbit"])
def test_parse_bandwidth_rejects(text: str) -> None:
    with pytest.raises(UnitError):
        parse_bandwidth(text)


def test_parse_bytes() -> None:
    assert parse_bytes("64 KiB") == 65536
    assert parse_bytes("1 MB") == 10**6
    with pytest.raises(UnitError):
        parse_bytes("1 mB")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1.5, "1500 ms"),
        (7200, "2 h"),
        (5400.0, "90 min"),
        (0.025, "25 ms"),
        (0.1, "100 ms"),
        (0.1 + 0.2, "300 ms"),  # float noise is snapped to the nearest nanosecond
        (90, "90 s"),
        (1e-9, "1 ns"),
        (0, "0 s"),
    ],
)
def test_format_time_picks_the_largest_exact_unit(seconds: float, text: str) -> None:
    assert format_time(seconds) == text
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("seconds", [1e-10, 1 / 3, -1.0, float("inf")])
def test_format_time_refuses_values_without_an_exact_form(seconds: float) -> None:
    with pytest.raises(ValueError):
        format_time(seconds)


@pytest.mark.parametrize(
    ("bps", "text"),
    [(100e6, "100 Mbit"), (1e9, "1 Gbit"), (1.5e9, "1500 Mbit"), (1024, "1024 bit"), (0, "0 bit")],
)
def test_format_bandwidth_round_trips(bps: float, text: str) -> None:
    assert format_bandwidth(bps) == text
    assert parse_bandwidth(text) == bps


def test_format_bandwidth_refuses_fractional_bits() -> None:
    with pytest.raises(ValueError, match="whole"):
        format_bandwidth(0.5)


# --------------------------------------------------------------------------- valid configs


def test_minimal_config_passes_and_dumps_only_what_was_set() -> None:
    cfg = validate_shadow_config(MINIMAL)
    assert isinstance(cfg, ShadowConfig)
    assert cfg.to_dict() == MINIMAL
    assert yaml.safe_load(yaml.safe_dump(cfg.to_dict())) == MINIMAL


def test_switch_graph_and_every_optional_section() -> None:
    data = config(
        network={"graph": {"type": "1_gbit_switch"}, "use_shortest_path": True},
        host_option_defaults={"log_level": "debug", "pcap_enabled": False},
        experimental={"runahead": "1 ms", "scheduler": "thread-per-host", "use_new_tcp": False},
    )
    data["general"].update(
        seed=7,
        parallelism=2,
        bootstrap_end_time="5 min",
        log_level="warning",
        heartbeat_interval=None,
        data_directory="out/shadow.data",
        template_directory=None,
        progress=True,
        model_unblocked_syscall_latency=True,
    )
    for host in data["hosts"].values():
        host["network_node_id"] = 0
    proc(data).update(shutdown_time="5 min", shutdown_signal="SIGINT")
    data["hosts"]["node-a"].update(ip_addr="11.0.0.7", bandwidth_down="10 Mbit")
    data["hosts"]["node-a"]["host_options"] = {"pcap_capture_size": "64 KiB"}
    proc(data)["expected_final_state"] = {"signaled": "SIGINT"}
    cfg = validate_shadow_config(data)
    assert cfg.general.heartbeat_interval is None
    assert "heartbeat_interval" in cfg.to_dict()["general"]  # an explicit null is kept


@pytest.mark.parametrize(
    "state", ["running", {"exited": 0}, {"exited": 3}, {"signaled": "SIGKILL"}, {"signaled": 9}]
)
def test_expected_final_state_forms(state: Any) -> None:
    data = config()
    proc(data)["expected_final_state"] = state
    validate_shadow_config(data)


def test_graph_file_is_checked_when_a_directory_is_given(tmp_path: Path) -> None:
    (tmp_path / "net.gml.xz").write_bytes(lzma.compress(GML.encode()))
    data = config(network={"graph": {"type": "gml", "file": {"path": "net.gml.xz"}}})
    data["network"]["graph"]["file"]["compression"] = "xz"
    validate_shadow_config(data)  # without graph_dir the file is not read
    validate_shadow_config(data, graph_dir=tmp_path)
    data["hosts"]["node-a"]["network_node_id"] = 5
    err = error_of(data, graph_dir=tmp_path)
    assert str(err).startswith("hosts.node-a.network_node_id: node 5 does not exist")
    data["network"]["graph"]["file"]["path"] = "missing.gml"
    assert "cannot read the graph file" in str(error_of(data, graph_dir=tmp_path))


# --------------------------------------------------------------------------- precise errors


def test_unknown_key_names_path_and_accepted_keys() -> None:
    data = config()
    data["general"]["stop_tme"] = "1 h"
    message = str(error_of(data))
    assert message.startswith("general.stop_tme: unknown key 'stop_tme'")
    assert "did you mean 'stop_time'" in message
    assert "accepted: stop_time, seed, parallelism" in message


def test_unknown_experimental_key_lists_what_shadow_accepts() -> None:
    message = str(error_of(config(experimental={"use_new_tcpp": True})))
    assert message.startswith("experimental.use_new_tcpp: unknown key")
    assert "native_preemption_sim_interval" in message


@pytest.mark.parametrize("name", ["node_a", "Node-a", "-node", "nöde", ""])
def test_bad_host_name(name: str) -> None:
    data = config()
    data["hosts"][name] = data["hosts"].pop("node-a")
    message = str(error_of(data))
    assert message.startswith(f"hosts.{name}: ")
    assert "lowercase a-z, 0-9, '-' and '.'" in message


def test_underscore_host_name_names_the_character() -> None:
    data = config()
    data["hosts"]["miner_001"] = data["hosts"].pop("node-a")
    assert "character '_' is not allowed" in str(error_of(data))


def test_fractional_unit() -> None:
    data = config()
    data["general"]["stop_time"] = "1.5 s"
    message = str(error_of(data))
    assert message.startswith("general.stop_time: '1.5 s' has a fractional value")
    assert 'write "1500 ms"' in message
    assert "accepted: an integer with a time unit" in message


def test_yaml_float_time_is_refused() -> None:
    data = config()
    proc(data)["start_time"] = 1.5
    assert str(error_of(data)).startswith("hosts.node-a.processes[0].start_time: 1.5 is not a time")


def test_missing_stop_time() -> None:
    data = config()
    del data["general"]["stop_time"]
    message = str(error_of(data))
    assert message.startswith("general.stop_time: required key is missing")
    assert 'accepted: a time such as "6 h"' in message


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        ({"exited": "zero"}, "is not a process final state"),
        ({"exit": 0}, "is not a process final state"),
        ("stopped", "is not a process final state"),
        ({"signaled": "KILL"}, "'KILL' is not a signal"),
        ({"signaled": 64}, "64 is not a signal"),
        ({"exited": 0, "signaled": "SIGKILL"}, "is not a process final state"),
    ],
)
def test_bad_expected_final_state(state: Any, fragment: str) -> None:
    data = config()
    proc(data)["expected_final_state"] = state
    message = str(error_of(data))
    assert message.startswith("hosts.node-a.processes[0].expected_final_state: ")
    assert fragment in message
    assert "accepted: " in message


def test_bad_shutdown_signal() -> None:
    data = config()
    proc(data)["shutdown_signal"] = "sigterm"
    message = str(error_of(data))
    assert message.startswith(
        "hosts.node-a.processes[0].shutdown_signal: 'sigterm' is not a signal"
    )


def test_packet_loss_written_as_int_is_refused() -> None:
    data = config()
    data["network"]["graph"]["inline"] = GML.replace("packet_loss 0.0", "packet_loss 0", 1)
    message = str(error_of(data))
    assert message.startswith("network.graph.inline: edge #0 (0 -> 0) (GML line 17):")
    assert "packet_loss is written as the integer 0; Shadow requires a float such as 0.0" in message


def test_missing_self_loop_on_an_attached_node() -> None:
    data = config()
    data["network"]["graph"]["inline"] = GML.replace(
        "    source 1\n    target 1\n", "    source 1\n    target 0\n"
    )
    err = error_of(data)
    assert any("node 1" in p and "has no self-loop" in p for p in err.problems), err.problems
    assert all(p.startswith("network.graph.inline: ") for p in err.problems)


def test_self_loop_only_needed_where_hosts_attach() -> None:
    data = config()
    data["hosts"]["node-b.example"]["network_node_id"] = 0
    data["network"]["graph"]["inline"] = GML.replace(
        "    source 1\n    target 1\n", "    source 1\n    target 0\n"
    )
    validate_shadow_config(data)


def test_zero_latency() -> None:
    data = config()
    data["network"]["graph"]["inline"] = GML.replace('latency "25 ms"', 'latency "0 ms"')
    message = str(error_of(data))
    assert message.startswith("network.graph.inline: edge #2 (0 -> 1)")
    assert "latency '0 ms' is zero" in message


def test_gml_syntax_error_names_the_line() -> None:
    data = config()
    data["network"]["graph"]["inline"] = GML.replace("    id 1\n", "    id 1 label 2\n")
    message = str(error_of(data))
    assert message.startswith("network.graph.inline: GML line 9:")


def test_network_node_id_must_exist_in_inline_graph() -> None:
    data = config()
    data["hosts"]["node-a"]["network_node_id"] = 7
    message = str(error_of(data))
    assert message == (
        "hosts.node-a.network_node_id: node 7 does not exist in the network graph; "
        "accepted: a node id of the graph: 0, 1"
    )


def test_switch_graph_has_only_node_zero() -> None:
    data = config(network={"graph": {"type": "1_gbit_switch"}})
    data["hosts"]["node-b.example"]["network_node_id"] = 0
    validate_shadow_config(data)
    data["hosts"]["node-a"]["network_node_id"] = 1
    assert "1_gbit_switch" in str(error_of(data))


def test_host_needs_a_bandwidth_from_itself_or_its_node() -> None:
    data = config()
    data["network"]["graph"]["inline"] = GML.replace('    host_bandwidth_up "100 Mbit"\n', "")
    message = str(error_of(data))
    assert message.startswith("hosts.node-a.bandwidth_up: host has no bandwidth_up")
    data["hosts"]["node-a"]["bandwidth_up"] = "20 Mbit"
    validate_shadow_config(data)


def test_shutdown_time_must_follow_start_time() -> None:
    data = config()
    proc(data)["shutdown_time"] = "1 s"
    message = str(error_of(data))
    assert message.startswith(
        "hosts.node-a.processes[0].shutdown_time: shutdown_time '1 s' is not after start_time"
    )


def test_shutdown_and_start_must_precede_stop_time() -> None:
    data = config()
    proc(data)["shutdown_time"] = "2 h"
    assert "is not before general.stop_time '10 min'" in str(error_of(data))
    data = config()
    proc(data)["start_time"] = "10 min"
    assert str(error_of(data)).startswith("hosts.node-a.processes[0].start_time: ")


def test_duplicate_ip_addresses() -> None:
    data = config()
    data["hosts"]["node-a"]["ip_addr"] = "11.0.0.1"
    data["hosts"]["node-b.example"]["ip_addr"] = "11.0.0.1"
    assert str(error_of(data)).startswith("hosts.node-b.example.ip_addr: 11.0.0.1 is already")


def test_hosts_need_processes() -> None:
    data = config()
    data["hosts"]["node-a"]["processes"] = []
    assert str(error_of(data)).startswith("hosts.node-a.processes: List should have at least 1")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"args": 4}, "args"),
        ({"args": ["--a", 5]}, "args"),
        ({"args": "--unbalanced 'quote"}, "args"),
        ({"environment": {"PORT": 18081}}, "environment"),
        ({"environment": {"A=B": "x"}}, "environment"),
        ({"path": ""}, "path"),
    ],
)
def test_bad_process_fields(change: dict[str, Any], path: str) -> None:
    data = config()
    proc(data).update(change)
    assert str(error_of(data)).startswith(f"hosts.node-a.processes[0].{path}: ")


def test_graph_needs_exactly_one_source_and_a_known_type() -> None:
    data = config()
    data["network"]["graph"]["file"] = {"path": "x.gml"}
    assert "exactly one of 'inline' or 'file', found both" in str(error_of(data))
    data = config(network={"graph": {"type": "gml"}})
    assert "found neither" in str(error_of(data))
    data = config(network={"graph": {"type": "2_gbit_switch"}})
    assert str(error_of(data)).startswith("network.graph.type: unknown graph type '2_gbit_switch'")


def test_strict_types_do_not_coerce() -> None:
    data = config()
    data["general"]["seed"] = "5"
    assert str(error_of(data)).startswith("general.seed: ")
    data = config()
    data["general"]["progress"] = "yes"
    assert str(error_of(data)).startswith("general.progress: ")


def test_every_problem_is_listed() -> None:
    data = config()
    data["general"].update(stop_time="1.5 s", seed=-1)
    err = error_of(data)
    assert len(err.problems) == 2
    assert "general.seed" in str(err)


def test_use_shortest_path_false_needs_a_complete_graph() -> None:
    data = config()
    data["network"]["use_shortest_path"] = False
    validate_shadow_config(data)
    data["network"]["graph"]["inline"] = GML.replace("    source 0\n    target 1\n", "")
    data["network"]["graph"]["inline"] = GML.replace(
        '  edge [\n    source 0\n    target 1\n    latency "25 ms"\n    packet_loss 0.0\n  ]\n', ""
    )
    assert "exactly one edge between every pair" in str(error_of(data))


def test_not_a_mapping() -> None:
    assert str(error_of(["general"])).startswith("(top level): a Shadow config is a map")
