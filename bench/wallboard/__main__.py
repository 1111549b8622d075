from bench.wallboard.run import main

main()
