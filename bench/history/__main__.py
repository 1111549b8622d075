from bench.history.run import main

main()
