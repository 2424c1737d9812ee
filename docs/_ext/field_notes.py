"""Descriptions of model fields whose class gives none (neither ``Field(description=...)`` nor a
string literal under the field), keyed ``ClassName.field``.

Used by ``monerosim_docs`` only where the model itself is silent: once a model documents a field,
its own text wins. A note naming a field that no longer exists fails the docs build (a warning
under ``-W``), so these cannot outlive the fields they describe.
Facts: /work/shared/reference/monero.md (Monero 0.18) and the modules named in each model.
"""

NOTES: dict[str, str] = {
    # scenario model (pytest_monerosim.config.model)
    "Scenario.general": "Name, seed, duration and pinned backend of the run.",
    "Scenario.network": "Topology, latency model, bandwidth and block verification time.",
    "Scenario.p2p": "Peer-to-peer settings of every node (monerod's defaults).",
    "Scenario.mining": "Block target and difficulty retarget (Monero's values).",
    "Scenario.transactions": "Transaction relay: Dandelion++ or plain diffusion, and its timers.",
    "Scenario.nodes": "Node groups; at least one.",
    "Scenario.wallets": "Wallet groups placed on nodes (none: a blocks-only run).",
    "Scenario.attacks": "Attacks to run, each a plugin reference with its parameters (see the attacks page).",
    "Scenario.backends": "Per-backend adjustments, applied only when the scenario runs on that backend.",
    "General.name": "Name of the scenario in reports, test ids and Allure stories.",
    "General.seed": "Seed of every random stream of the run (same scenario + seed → same summary on sim).",
    "General.duration": "Simulated time the run lasts.",
    "General.description": "Free text shown in reports (Allure uses it for tests without a docstring).",
    "Network.topology": "Topology plugin and its parameters (see Built-in topologies).",
    "Network.latency": "Latency model plugin and its parameters (see Built-in latency models).",
    "P2P.out_peers": "Outgoing connections each node keeps (monerod --out-peers; 12 by default).",
    "P2P.white_list_limit": "Size of the white peer list (peers seen alive; monerod: 1000).",
    "P2P.gray_list_limit": "Size of the gray peer list (peers heard of; monerod: 5000).",
    "P2P.anchors": "Anchor connections remembered across restarts and tried first (monerod: 2).",
    "P2P.handshake_peers": "Peer-list entries sent in a handshake or timed sync (monerod: 250).",
    "P2P.timed_sync_s": "Interval of the timed sync that exchanges peer lists (monerod: 60 s).",
    "P2P.white_probability": "Chance that a new outgoing connection is picked from the white list "
                             "rather than the gray list (about 70% in monerod).",
    "P2P.connect_retry_s": "Delay before a node that could not fill an outgoing slot tries again.",
    "Mining.target_s": "Block target time (Monero: 120 s).",
    "Mining.difficulty_window": "Blocks in the difficulty window (Monero: 720).",
    "Mining.difficulty_lag": "Most recent blocks left out of the window (Monero: 15).",
    "Mining.difficulty_cut": "Timestamps dropped from each end of the sorted window (Monero: 60).",
    "Transactions.relay": "dandelion: Dandelion++ stem then fluff (monerod's default); diffusion: "
                          "fluff at once.",
    "Transactions.stem_peers": "Stem peers chosen per epoch (Dandelion++: 2).",
    "Transactions.fluff_probability": "Chance that a stem hop fluffs instead of forwarding (20%).",
    "Transactions.epoch_s": "Length of a Dandelion++ epoch, after which stem peers are chosen again "
                            "(about 10 min).",
    "Transactions.embargo_mean_s": "Mean embargo timer: a stem node that has not seen the tx fluffed "
                                   "by then fluffs it itself (average 39 s).",
    "Transactions.flush_mean_s": "Mean Poisson delay before a connection flushes its queued fluff txs "
                                 "(5 s).",
    "Transactions.ring_size": "Ring members per input, the real one included (Monero: 16).",
    "NodeGroup.group": "Group name; nodes are named after it (group, or group-0, group-1, ...).",
    "NodeGroup.count": "Nodes in the group.",
    "NodeGroup.role": "miner mines; relay and user relay (users usually carry wallets); observer "
                      "only listens.",
    "NodeGroup.out_peers": "This group's outgoing connections (default: p2p.out_peers).",
    "NodeGroup.in_peers": "This group's incoming limit (default: p2p.in_peers).",
    "NodeGroup.anchors": "This group's anchor connections (default: p2p.anchors).",
    "NodeGroup.start_time": "When the group's nodes come online (late joiners).",
    "NodeGroup.region": "Region of the group's nodes, for the regions latency model and partitions "
                        "by region:NAME.",
    "NodeGroup.bandwidth_bps": "This group's bandwidth (default: network.bandwidth_bps).",
    "NodeGroup.honest": "False marks the group as adversarial in reports and honest-node checks.",
    "WalletGroup.name": "Wallet group name; wallets are named after it like nodes after their group.",
    "WalletGroup.strategy": "Wallet strategy plugin and its parameters (see Built-in wallet strategies).",
    "PluginRef.name": "Registered plugin name.",
    "PluginRef.params": "The plugin's parameters (written side by side with name in YAML).",
    # plugin parameter models
    "EclipseParams.victim_out_peers": "Override the victim's outgoing connections (default: its group's).",
    "EclipseParams.victim_in_peers": "Cap the victim's incoming connections (default: its group's).",
    "EclipseParams.restart_downtime": "How long the victim stays offline when it restarts.",
    "PartitionParams.sample_s": "Interval of the metric series.",
    "SybilParams.start": "When the sybil identities join the network.",
    "SybilParams.sample_s": "Interval of the metric series.",
    "HashrateMiningParams.steps": "Hashrate changes over time: a list of {at, hashrate}, in time order.",
    "DistributorParams.min_transaction_amount": "Smallest top-up (atomic units, or \"0.1 XMR\").",
    "DistributorParams.priority": "monero-wallet-rpc priority of the distributor's transfers (0..4).",
    "TransactionBotParams.schedule": "fixed: every interval_s; poisson: exponential gaps of mean "
                                     "interval_s.",
    "TransactionBotParams.stop_time": "No transfers after this simulated time (None: until the end).",
    "TransactionBotParams.amount": "Distribution of the amount of each transfer.",
    "TransactionBotParams.max_txs": "Stop after this many transfers (None: no limit).",
    "FileParams.path": "GML or edge-list file (relative to the scenario file).",
    "FileParams.format": "gml, edgelist or auto (from the file's contents).",
    "RandomRegularParams.degree": "Connections of every node.",
    "RandomRegularParams.attempts": "Redraws allowed to find a connected graph.",
    "StarParams.center": "Index of the hub node.",
    "ConstantParams.latency_s": "One-way latency of every link.",
    "LognormalParams.median_s": "Median one-way latency of a link.",
    "RegionsParams.regions": "Regions with their weights (share of nodes placed there).",
    "RegionsParams.latency_s": "One-way latency between regions: {a: {b: seconds}}.",
    "RegionsParams.intra_s": "One-way latency within a region.",
    "RegionsParams.jitter": "Relative spread of each pair's latency around its region figure.",
    "UniformParams.low": "Smallest one-way latency of a link.",
    "UniformParams.high": "Largest one-way latency of a link.",
}
