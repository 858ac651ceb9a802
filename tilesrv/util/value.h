/* util/value.h — a typed attribute value (null, integer, real, string), as held by the
 * feature store and compared by style filters. Strings are borrowed: they live as long
 * as the store (or style) that owns them. */
#ifndef TS_UTIL_VALUE_H
#define TS_UTIL_VALUE_H

#include <stdint.h>

typedef enum { TS_VAL_NULL = 0, TS_VAL_INT, TS_VAL_REAL, TS_VAL_STR, TS_VAL_BOOL } ts_val_type;

typedef struct ts_value {
    ts_val_type type;
    union {
        int64_t i;      /* TS_VAL_INT, TS_VAL_BOOL (0/1) */
        double d;       /* TS_VAL_REAL */
        const char *s;  /* TS_VAL_STR, NUL-terminated, borrowed */
    } u;
} ts_value;

#endif
