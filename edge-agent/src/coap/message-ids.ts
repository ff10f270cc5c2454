/**
 * Message IDs (RFC 7252 §4.4): 16 bits, one counter per endpoint, starting at a random value
 * ("SHOULD be randomized" against off-path spoofing and to avoid clashes after a restart) and
 * incremented per new CON/NON. The RFC asks that a message ID is not reused with one peer
 * within EXCHANGE_LIFETIME; a counter wraps after 65,536 messages, i.e. that rule caps a
 * single peer at ~265 messages/s with the default parameters (as in libcoap and Californium).
 */
export class MessageIdAllocator {
  #next: number;

  /** `random` returns [0, 1); the default is Math.random (the start only needs to be unpredictable-ish). */
  constructor(random: () => number = Math.random) {
    this.#next = Math.floor(random() * 0x10000) & 0xffff;
  }

  /** Returns the next message ID. */
  next(): number {
    const id = this.#next;
    this.#next = (id + 1) & 0xffff;
    return id;
  }
}
