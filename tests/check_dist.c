/* check_dist.c: tests of the distributions (placeholder, filled next). */
#include <stdlib.h>
#include <check.h>
int main(void) { return 0; }
