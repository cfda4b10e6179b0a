/* ptr_map.c: the pointer-keyed map of ptr_map.h (Knuth, TAOCP vol. 3, 6.4, linear
 * probing with a multiplicative hash). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lang/back/ptr_map.h"

static size_t ptr_hash(const void *p, size_t cap)
{
  unsigned long long x = (unsigned long long)(uintptr_t)p;
  x ^= x >> 17;
  x *= 0x9E3779B97F4A7C15ULL;
  return (size_t)(x >> 29) & (cap - 1);
}

void **ptr_map_find(const ptr_map *m, const void *key)
{
  if (!m->cap) return NULL;
  for (size_t h = ptr_hash(key, m->cap); m->key[h]; h = (h + 1) & (m->cap - 1))
    if (m->key[h] == key) return &m->val[h];
  return NULL;
}

static int grow(ptr_map *m)
{
  size_t cap = m->cap ? 2 * m->cap : 64;
  const void **k = calloc(cap, sizeof *k);
  void **v = calloc(cap, sizeof *v);
  if (!k || !v) { free(k); free(v); return -1; }
  for (size_t i = 0; i < m->cap; i++)
    if (m->key[i]) {
      size_t h = ptr_hash(m->key[i], cap);
      while (k[h]) h = (h + 1) & (cap - 1);
      k[h] = m->key[i];
      v[h] = m->val[i];
    }
  free(m->key);
  free(m->val);
  m->key = k; m->val = v; m->cap = cap;
  return 0;
}

void **ptr_map_slot(ptr_map *m, const void *key)
{
  void **s = ptr_map_find(m, key);
  if (s) return s;
  if (2 * (m->n + 1) > m->cap && grow(m)) return NULL;
  size_t h = ptr_hash(key, m->cap);
  while (m->key[h]) h = (h + 1) & (m->cap - 1);
  m->key[h] = key;
  m->val[h] = NULL;
  m->n++;
  return &m->val[h];
}

int ptr_map_copy_keys(ptr_map *dst, const ptr_map *src)
{
  memset(dst, 0, sizeof *dst);
  if (!src->cap) return 0;
  const void **k = malloc(src->cap * sizeof *k);
  void **v = calloc(src->cap, sizeof *v);
  if (!k || !v) { free(k); free(v); return -1; }
  memcpy(k, src->key, src->cap * sizeof *k);
  dst->key = k; dst->val = v; dst->cap = src->cap; dst->n = src->n;
  return 0;
}

void ptr_map_clear(ptr_map *m)
{
  free(m->key);
  free(m->val);
  memset(m, 0, sizeof *m);
}
