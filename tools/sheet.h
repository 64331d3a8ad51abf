/* tools/sheet.h - the shift handover sheet (query.handover's result,
 * docs/HANDOVER.md) printed for people: deskctl handover. Reads only the
 * JSON it is given. */
#ifndef DESKD_TOOLS_SHEET_H
#define DESKD_TOOLS_SHEET_H

#include <jansson.h>
#include <stdio.h>

/* Prints the sheet in result (the reply's "result") to f. Money stays
 * integer fen; yuan are shown beside it, formatted from the integer
 * (R-GEN-04). */
void sheet_print(FILE *f, const json_t *result);

#endif
