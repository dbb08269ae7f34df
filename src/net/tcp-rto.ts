// The retransmission timeout of RFC 6298: smoothed RTT and its variation from samples (never of
// a retransmitted segment: Karn's rule, kept by the caller), RTO = SRTT + 4·RTTVAR within
// bounds, doubled on every timeout.

export class RtoEstimator {
  rto: number;
  srtt: number | null = null;
  private rttvar = 0;

  constructor(
    initialMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.rto = initialMs;
  }

  sample(r: number): void {
    if (this.srtt === null) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + 4 * this.rttvar));
  }

  backoff(): void {
    this.rto = Math.min(this.rto * 2, this.maxMs);
  }
}
