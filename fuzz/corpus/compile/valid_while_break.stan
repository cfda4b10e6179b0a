transformed data {
  int i = 0;
  while (1) {
    i += 1;
    if (i > 5) break;
    if (i % 2 == 0) continue;
  }
  for (j in 1:10) {
    while (i > 0) {
      i -= 1;
      if (i == 3) break;
    }
    if (j == 2) continue;
  }
}
