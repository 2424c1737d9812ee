graph [
  directed 0
  node [
    id 0
    label "hub"
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  node [
    id 1
    label "miners-0"
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  node [
    id 2
    label "miners-1"
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  node [
    id 3
    label "monitor"
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  edge [
    source 0
    target 1
    latency "25 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 2
    latency "25 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 3
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 1
    target 3
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 2
    target 3
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 0
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 1
    target 1
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 2
    target 2
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 3
    target 3
    latency "1 ms"
    packet_loss 0.0
  ]
]
