build/fuzzobj/user/parse.o: user/parse.c user/parse.h

user/parse.h:
