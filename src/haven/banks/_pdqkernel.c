/* The compiled matching kernel of haven.banks.index (multi-index hashing + brute-force delta).
 *
 * One call answers a batch of queries: for each query, every probe of the plan reads one bucket
 * of one chunk table, every candidate slot is verified with a 256-bit popcount, and the slots of
 * the brute-force delta are scanned. A query whose buckets hold more than `brute_limit` slots is
 * answered by scanning every slot instead (exact too). Results per query are sorted by slot and
 * deduplicated (a near hash shows up in several chunks), so the answer is the NumPy path's.
 *
 * Loaded with ctypes (which releases the GIL for the call): no Python API is used here, and the
 * arrays are only read, so any number of threads may search one index at once.
 * Built by `make install` (scripts/build_kernel.sh); haven.banks.kernel falls back to NumPy
 * when the shared library is absent.
 */
#include <stdint.h>
#include <stdlib.h>

#define KERNEL_ABI 1
#ifndef PF
#define PF 16
#endif

int32_t haven_pdq_abi(void) { return KERNEL_ABI; }

static inline uint32_t chunk_of(const uint64_t *q, int32_t start, int32_t width) {
    int32_t i = start >> 6, off = start & 63;
    uint64_t mask = (width >= 64) ? ~0ULL : ((1ULL << width) - 1);
    if (off + width <= 64) {
        return (uint32_t)((q[i] >> (64 - off - width)) & mask);
    }
    int32_t lo = off + width - 64;
    uint64_t hi_part = q[i] & ((1ULL << (64 - off)) - 1);
    return (uint32_t)(((hi_part << lo) | (q[i + 1] >> (64 - lo))) & mask);
}

static inline int32_t dist256(const uint64_t *a, const uint64_t *b) {
    return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]) +
           __builtin_popcountll(a[2] ^ b[2]) + __builtin_popcountll(a[3] ^ b[3]);
}

static int cmp_pair(const void *x, const void *y) {
    int64_t a = ((const int64_t *)x)[0], b = ((const int64_t *)y)[0];
    return (a > b) - (a < b);
}

/* Sort (slot, dist) pairs of one query by slot and drop repeated slots; returns the new count. */
static int64_t sort_unique(int64_t *slot, int32_t *dist, int64_t n, int64_t *scratch) {
    if (n <= 1) return n;
    for (int64_t k = 0; k < n; k++) {
        scratch[2 * k] = slot[k];
        scratch[2 * k + 1] = dist[k];
    }
    qsort(scratch, (size_t)n, 2 * sizeof(int64_t), cmp_pair);
    int64_t w = 0;
    for (int64_t k = 0; k < n; k++) {
        if (w > 0 && slot[w - 1] == scratch[2 * k]) continue;
        slot[w] = scratch[2 * k];
        dist[w] = (int32_t)scratch[2 * k + 1];
        w++;
    }
    return w;
}

/*
 * base: (indexed, 4) words of the indexed slots; delta: (ndelta, 4) words of slots indexed..;
 * alive: indexed + ndelta flags. post_rows[c] / off_rows[c]: the addresses of chunk c's postings
 * (int32 slots) and offsets (int32, 2^width + 1). The plan: nprobe (chunk, flip mask) pairs.
 * Output: per query q, out_start[q]..out_start[q+1] in out_slot/out_dist (out_start has nq + 1).
 * brute_limit < 0 scans every slot (radii beyond the probe budget).
 * Returns the number of results written, -(needed) - 1 when out_cap is too small (nothing usable),
 * or INT64_MIN when memory ran out.
 */
int64_t haven_pdq_search(const uint64_t *base, int64_t indexed, const uint64_t *delta, int64_t ndelta,
                         const uint8_t *alive, int32_t m, const int32_t *starts, const int32_t *widths,
                         const int64_t *post_rows, const int64_t *off_rows, int64_t nprobe,
                         const int32_t *probe_chunk, const int64_t *probe_mask, const uint64_t *queries,
                         int64_t nq, int32_t radius, int64_t brute_limit, int64_t *out_start, int64_t *out_slot,
                         int32_t *out_dist, int64_t out_cap) {
    uint32_t qc[64];
    int64_t w = 0, needed = 0;
    int64_t *scratch = NULL, scratch_cap = 0;
    int32_t *cand = NULL;
    int64_t cand_cap = 0;
    /* Per probe: the bucket's first offset address, then its [lo, hi). Reading them in separate
     * passes (with prefetches) lets the memory system fetch hundreds of buckets at once instead of
     * waiting on each offset -> posting -> hash chain in turn: the search is bound by random reads. */
    const int32_t **ofp = (const int32_t **)malloc((size_t)(nprobe + 1) * sizeof(void *));
    int32_t *lo = (int32_t *)malloc((size_t)(nprobe + 1) * sizeof(int32_t));
    int32_t *hi = (int32_t *)malloc((size_t)(nprobe + 1) * sizeof(int32_t));
    int overflow = 0;
    if (ofp == NULL || lo == NULL || hi == NULL) goto fail;
    for (int64_t q = 0; q < nq; q++) {
        const uint64_t *qw = queries + 4 * q;
        int64_t first = w;
        out_start[q] = w;
        for (int32_t c = 0; c < m; c++) qc[c] = chunk_of(qw, starts[c], widths[c]);
        int64_t total = 0;
        if (indexed > 0 && brute_limit >= 0) {
            for (int64_t p = 0; p < nprobe; p++) {
                int32_t c = probe_chunk[p];
                ofp[p] = (const int32_t *)(intptr_t)off_rows[c] + (qc[c] ^ (uint32_t)probe_mask[p]);
                __builtin_prefetch(ofp[p]);
            }
            for (int64_t p = 0; p < nprobe; p++) {
                lo[p] = ofp[p][0];
                hi[p] = ofp[p][1];
                total += hi[p] - lo[p];
            }
        }
        if (indexed > 0 && (brute_limit < 0 || total > brute_limit)) {
            /* scan everything: cheaper than the probes here, and exact */
            for (int64_t s = 0; s < indexed; s++) {
                int32_t d = dist256(base + 4 * s, qw);
                if (d <= radius && alive[s]) {
                    if (w < out_cap) { out_slot[w] = s; out_dist[w] = d; } else overflow = 1;
                    w++;
                }
            }
        } else if (indexed > 0) {
            if (total > cand_cap) {
                free(cand);
                cand_cap = total * 2 + 1024;
                cand = (int32_t *)malloc((size_t)cand_cap * sizeof(int32_t));
                if (cand == NULL) goto fail;
            }
            int64_t nc = 0;
            for (int64_t p = 0; p < nprobe; p++) {
                if (p + 8 < nprobe) {
                    const int32_t *pf = (const int32_t *)(intptr_t)post_rows[probe_chunk[p + 8]];
                    __builtin_prefetch(pf + lo[p + 8]);
                }
                if (lo[p] == hi[p]) continue;
                const int32_t *post = (const int32_t *)(intptr_t)post_rows[probe_chunk[p]];
                for (int32_t k = lo[p]; k < hi[p]; k++) cand[nc++] = post[k];
            }
            for (int64_t k = 0; k < nc; k++) {
                if (k + PF < nc) __builtin_prefetch(base + 4 * (int64_t)cand[k + PF]);
                int32_t s = cand[k];
                int32_t d = dist256(base + 4 * (int64_t)s, qw);
                if (d <= radius && alive[s]) {
                    if (w < out_cap) { out_slot[w] = s; out_dist[w] = d; } else overflow = 1;
                    w++;
                }
            }
        }
        for (int64_t s = 0; s < ndelta; s++) {
            int32_t d = dist256(delta + 4 * s, qw);
            if (d <= radius && alive[indexed + s]) {
                if (w < out_cap) { out_slot[w] = indexed + s; out_dist[w] = d; } else overflow = 1;
                w++;
            }
        }
        if (!overflow && w - first > 1) {
            int64_t n = w - first;
            if (n > scratch_cap) {
                free(scratch);
                scratch_cap = n * 2;
                scratch = (int64_t *)malloc((size_t)scratch_cap * 2 * sizeof(int64_t));
                if (scratch == NULL) goto fail;
            }
            w = first + sort_unique(out_slot + first, out_dist + first, n, scratch);
        }
        needed += w - first;
        if (overflow) w = first; /* keep counting what each query needs, write nothing more */
    }
    free(scratch); free(cand); free(ofp); free(lo); free(hi);
    if (overflow) return -needed - 1;
    out_start[nq] = w;
    return w;
fail:
    free(scratch); free(cand); free(ofp); free(lo); free(hi);
    return INT64_MIN;
}
