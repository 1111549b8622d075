from bench.screenpop.run import main

main()
