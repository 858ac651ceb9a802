/* source/context.c — the per-thread ts_source_ctx: a PROJ context, a GEOS handle and the
 * places their messages land, so no library ever prints on its own. */
#include "source/source.h"
#include "source/source_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_error.h>
#include <gdal.h>

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void
gdal_register(void)
{
    GDALAllRegister();
}

void
ts_source__gdal_init(void)
{
    pthread_once(&gdal_once, gdal_register);
}

static void
geos_message(const char *msg, void *ud)
{
    ts_source_ctx *sc = ud;
    snprintf(sc->geos_msg, sizeof sc->geos_msg, "%s", msg ? msg : "");
}

static void
proj_message(void *ud, int level, const char *msg)
{
    ts_source_ctx *sc = ud;
    (void)level;
    snprintf(sc->proj_msg, sizeof sc->proj_msg, "%s", msg ? msg : "");
}

static void CPL_STDCALL
gdal_message(CPLErr cls, CPLErrorNum num, const char *msg)
{
    ts_source_ctx *sc = CPLGetErrorHandlerUserData();
    (void)num;
    if (sc == NULL || cls == CE_Debug || cls == CE_None)
        return;
    /* keep the first failure (later ones are usually its consequences), else the latest
     * warning */
    if (cls == CE_Warning) {
        if (sc->gdal_failures == 0)
            snprintf(sc->gdal_msg, sizeof sc->gdal_msg, "%s", msg ? msg : "");
        return;
    }
    if (++sc->gdal_failures == 1)
        snprintf(sc->gdal_msg, sizeof sc->gdal_msg, "%s", msg ? msg : "");
}

void
ts_source__gdal_capture_begin(ts_source_ctx *sc)
{
    sc->gdal_msg[0] = '\0';
    sc->gdal_failures = 0;
    CPLPushErrorHandlerEx(gdal_message, sc);
}

void
ts_source__gdal_capture_end(ts_source_ctx *sc)
{
    (void)sc;
    CPLPopErrorHandler();
}

ts_source_ctx *
ts_source_ctx_new(ts_err *err)
{
    ts_source__gdal_init();
    ts_source_ctx *sc = calloc(1, sizeof *sc);
    if (sc == NULL) {
        TS_FAIL(err, TS_ENOMEM, "source context");
        return NULL;
    }
    sc->pj = proj_context_create();
    if (sc->pj == NULL) {
        TS_FAIL(err, TS_EINTERNAL, "proj_context_create failed");
        goto fail;
    }
    proj_log_func(sc->pj, sc, proj_message);
    sc->geos = GEOS_init_r();
    if (sc->geos == NULL) {
        TS_FAIL(err, TS_EINTERNAL, "GEOS_init_r failed");
        goto fail;
    }
    GEOSContext_setErrorMessageHandler_r(sc->geos, geos_message, sc);
    GEOSContext_setNoticeMessageHandler_r(sc->geos, geos_message, sc);
    return sc;

fail:
    ts_source_ctx_free(sc);
    return NULL;
}

void
ts_source_ctx_free(ts_source_ctx *sc)
{
    if (sc == NULL)
        return;
    for (int i = 0; i < sc->npjs; i++) {
        free(sc->pjs[i].src);
        free(sc->pjs[i].dst);
        if (sc->pjs[i].op != NULL)
            proj_destroy(sc->pjs[i].op);
    }
    free(sc->ring);
    free(sc->holes);
    free(sc->parts);
    if (sc->geos != NULL)
        GEOS_finish_r(sc->geos);
    if (sc->pj != NULL)
        proj_context_destroy(sc->pj);
    free(sc);
}
