module lugonetbench

go 1.19
