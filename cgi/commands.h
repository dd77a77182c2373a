/*
 * commands.h: the one-shot commands of todo-fcgi (main.c picks them from
 * the options): print a development token, print a listing's plan.
 */
#ifndef TODO_COMMANDS_H
#define TODO_COMMANDS_H

#include "../common/config.h"

/* --token USER [--role ROLE] [--ttl SECONDS]: an HS256 token on stdout. */
int command_token(const struct config *cfg, const char *user, const char *role, long ttl);

/* --explain USER [QUERY]: the plan of that listing, as JSON on stdout. */
int command_explain(const struct config *cfg, const char *user, const char *query);

#endif
