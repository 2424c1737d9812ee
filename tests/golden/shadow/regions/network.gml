graph [
  directed 0
  node [
    id 0
    label "seed"
    host_bandwidth_down "50 Mbit"
    host_bandwidth_up "50 Mbit"
  ]
  node [
    id 1
    label "miners-0"
    host_bandwidth_down "50 Mbit"
    host_bandwidth_up "50 Mbit"
  ]
  node [
    id 2
    label "miners-1"
    host_bandwidth_down "50 Mbit"
    host_bandwidth_up "50 Mbit"
  ]
  node [
    id 3
    label "user"
    host_bandwidth_down "20 Mbit"
    host_bandwidth_up "20 Mbit"
  ]
  node [
    id 4
    label "monitor"
    host_bandwidth_down "100 Mbit"
    host_bandwidth_up "100 Mbit"
  ]
  edge [
    source 0
    target 1
    latency "8 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 2
    latency "8 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 3
    latency "45 ms"
    packet_loss 0.0
  ]
  edge [
    source 0
    target 4
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 1
    target 2
    latency "8 ms"
    packet_loss 0.0
  ]
  edge [
    source 1
    target 3
    latency "45 ms"
    packet_loss 0.0
  ]
  edge [
    source 1
    target 4
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 2
    target 3
    latency "45 ms"
    packet_loss 0.0
  ]
  edge [
    source 2
    target 4
    latency "1 ms"
    packet_loss 0.0
  ]
  edge [
    source 3
    target 4
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
  edge [
    source 4
    target 4
    latency "1 ms"
    packet_loss 0.0
  ]
]
