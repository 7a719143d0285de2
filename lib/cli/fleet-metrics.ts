/**
 * A fleet worker's /metrics (Prometheus text format, lib/watch/exposition.ts): its counters and gauges, each sample
 * labelled with the worker's id (and the partition, for the lag):
 *
 *   bptt_fleet_points_processed_total   counter  points scored and committed
 *   bptt_fleet_dead_letters_total       counter  points sent to the dead-letter stream
 *   bptt_fleet_batches_total            counter  batches committed
 *   bptt_fleet_lag                      gauge    entries of a partition not yet processed (one sample per owned one)
 *   bptt_fleet_resident_series          gauge    detectors in memory
 *   bptt_fleet_resident_bytes           gauge    their estimated memory
 *   bptt_fleet_partitions_owned         gauge    partitions this worker holds a lease on
 *   bptt_fleet_points_per_second        gauge    recent scoring rate
 *   bptt_fleet_memory_budget_bytes      gauge    the budget of the resident detectors
 *   bptt_fleet_batch_size               gauge    entries read per partition per batch now (the worker halves it while
 *                                                a round takes over a quarter of the lease)
 *   bptt_fleet_errors_total             counter  errors (Redis unreachable, …) the worker recovered from
 */
import type { MetricFamily } from '../watch/exposition.js';
import type { FleetWorkerStats } from '../fleet/worker.js';

/** The metric families of a worker with stats `s` (FleetWorker.stats()). */
export function workerFamilies(s: FleetWorkerStats): MetricFamily[] {
  const worker = s.id;
  const one = (name: string, help: string, type: 'gauge' | 'counter', value: number): MetricFamily => ({
    name,
    help,
    type,
    samples: [{ labels: { worker }, value }],
  });
  return [
    one('bptt_fleet_points_processed_total', 'Points scored and committed by this worker.', 'counter', s.points),
    one(
      'bptt_fleet_dead_letters_total',
      'Points this worker sent to the dead-letter stream.',
      'counter',
      s.deadLetters,
    ),
    one('bptt_fleet_batches_total', 'Batches this worker committed.', 'counter', s.batches),
    {
      name: 'bptt_fleet_lag',
      help: 'Entries of a partition not yet processed (partitions this worker owns).',
      type: 'gauge',
      samples: s.partitions.map((k) => ({ labels: { worker, partition: String(k) }, value: s.lag[String(k)] ?? 0 })),
    },
    one('bptt_fleet_resident_series', 'Detectors resident in this worker.', 'gauge', s.residentSeries),
    one('bptt_fleet_resident_bytes', 'Estimated memory of the resident detectors.', 'gauge', s.residentBytes),
    one('bptt_fleet_memory_budget_bytes', "The resident detectors' memory budget.", 'gauge', s.memoryBudget),
    one('bptt_fleet_partitions_owned', 'Partitions this worker holds a lease on.', 'gauge', s.partitions.length),
    one(
      'bptt_fleet_points_per_second',
      'Points scored per second over the last 10 s or so.',
      'gauge',
      s.pointsPerSecond,
    ),
    one(
      'bptt_fleet_batch_size',
      'Entries read per partition per batch now (halved while rounds run long).',
      'gauge',
      s.batchSize,
    ),
    one('bptt_fleet_errors_total', 'Errors (Redis unreachable, …) the worker recovered from.', 'counter', s.errors),
  ];
}
