"""X12 EDI, as pure functions: a streaming tokenizer (delimiters from the ISA), the envelope checks
(ISA/IEA, GS/GE, ST/SE control numbers and counts), typed mappings of each transaction set we trade
to our canonical models, and the writers of what we send (997/999, TA1, 850). No I/O here: the
intake pipeline (activities/intake.py) reads files and dispatches what these return.

We write our own small reader: no Python X12 library read real 850/855/856/810/832 files well
(pyx12 read 7 of 38 real samples)."""
