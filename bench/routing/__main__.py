from bench.routing.run import main

main()
