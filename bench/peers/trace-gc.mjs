// Preloaded (NODE_OPTIONS=--import) by bench/relay-idle.ts with RELAY_IDLE_TRACE_GC=1: V8 prints a line per
// collection on stdout, which the bench counts per phase (a load-independent view of what the pacer changes).
import v8 from 'node:v8';
v8.setFlagsFromString('--trace-gc');
