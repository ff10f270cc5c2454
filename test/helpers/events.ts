/** Resolves with the first value `register` hands to its callback, or rejects after `ms`. */
export function next<T>(register: (cb: (v: T) => void) => void, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}
