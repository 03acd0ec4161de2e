/* SPDX-License-Identifier: GPL-2.0 */
#ifndef WSPLICE_LB_HASH_H
#define WSPLICE_LB_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/*
 * What the hashing algorithms (source, uri, hdr) and static-rr share: HAProxy's hash functions,
 * and two tables over the servers in use, rebuilt whenever lb_select() reports another set:
 *
 *  - the map (HAProxy's map-based hash-type and static-rr): every server appears weight times,
 *    spread out as smooth weighted round robin orders them; a key picks map[hash % total weight].
 *    When a server leaves, the total changes and most keys move.
 *  - the ring (hash-type consistent): weight x 16 points per server at pseudo-random places
 *    derived from its position in the backend (HAProxy's puid); a key picks the point nearest
 *    to its hash. When a server leaves, only the keys that were nearest to its points move.
 */

/* HAProxy's full_hash(): Bob Jenkins' 32-bit integer mix ("avalanche"). */
uint32_t lb_full_hash(uint32_t a);

/* The backend's hash function ("hash-type ... sdbm|djb2|wt6|crc32 [avalanche]") over key. */
uint32_t lb_hash_key(const struct proxy *be, const void *key, size_t len);

/* One hash function by number (enum lb_hash_fn), without the avalanche modifier. */
uint32_t lb_hash_fn(enum lb_hash_fn fn, const void *key, size_t len);

/*
 * The server in use that hash maps to with the backend's hash-type. NULL when that server is at
 * its maxconn: HAProxy would queue the request on it, and wsplice has no queue yet. Also NULL on
 * allocation failure.
 */
struct server *lb_hash_server(struct proxy *be, uint32_t hash);

/* Entry pos (modulo the total weight) of the map; NULL on allocation failure. */
struct server *lb_map_at(struct proxy *be, unsigned int pos);

/* Frees what the tables hold (cfg_free() calls it for every proxy). */
void lb_tbl_free(struct lb_tbl *t);

#endif /* WSPLICE_LB_HASH_H */
