/*
 * color.h: whether to colour output, and the few colours sre uses.
 * Colour appears only on a terminal, never when NO_COLOR is set (any
 * non-empty value, see no-color.org), and color.ui = never turns it off.
 */
#ifndef SRE_COLOR_H
#define SRE_COLOR_H

#include "config.h"

#define COLOR_RESET "\033[m"
#define COLOR_BOLD "\033[1m"
#define COLOR_RED "\033[31m"
#define COLOR_BOLD_RED "\033[1;31m"
#define COLOR_GREEN "\033[32m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_CYAN "\033[36m"
#define COLOR_DIM "\033[2m"

/* 1 when output to fd should be coloured. */
int color_wanted(const struct config *cfg, int fd);

#endif
