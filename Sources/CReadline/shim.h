/* CReadline: GNU readline and its history library (GPL: see README, License). */
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>
